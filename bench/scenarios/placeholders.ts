/** Scenarios for features that have not landed yet: reported as skipped, with the reason. */
import type { Scenario } from '../lib/scenario.js';

function notYet(name: string, title: string, reason: string): Scenario {
  return {
    name,
    title,
    skip: reason,
    run: () => Promise.reject(new Error(`${name}: not yet available`)),
  };
}

export const pull = notYet(
  'pull',
  'Pull: long-poll and SSE latency, memory of 10,000 idle SSE connections',
  'not yet available: polling endpoints, long polling and SSE have not landed',
);
export const ingest = notYet(
  'ingest',
  'Ingest: verified provider webhook acknowledgement latency and rate',
  'not yet available: ingest sources have not landed',
);
export const postgres = notYet(
  'postgres',
  'PostgreSQL: end-to-end throughput with 1 and 2 nodes',
  'not yet available: the PostgreSQL store has not landed',
);
