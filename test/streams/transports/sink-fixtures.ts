/** Events and sink targets for the transport suites: unique per run, so runs never see each other's data. */
import { randomBytes } from 'node:crypto';
import type { SinkEvent, SinkTarget } from '../../../src/bridges/streams/sink-transport.js';
import { generateSecret } from '../../../src/domain/signature.js';

/** A short random suffix for per-run queue, stream, subject and topic names. */
export function runSuffix(): string {
  return randomBytes(6).toString('hex');
}

let nextSeq = 1;

/** `n` events with fresh ids; payloads alternate between JSON objects and plain text. */
export function makeEvents(n: number, eventType = 'user.created'): SinkEvent[] {
  const out: SinkEvent[] = [];
  for (let i = 0; i < n; i++) {
    const seq = nextSeq++;
    out.push({
      id: `evt_${runSuffix()}${seq}`,
      eventType,
      payload: i % 5 === 4 ? `plain text ${seq}` : JSON.stringify({ n: seq, name: `user ${seq}` }),
      createdAt: 1_790_000_000_000 + seq,
      seq,
    });
  }
  return out;
}

export function makeTarget(type: string, config: Record<string, unknown>, headers: Record<string, string> = {}): SinkTarget {
  return { id: `sink_${runSuffix()}`, streamId: `strm_${runSuffix()}`, type, config, secret: generateSecret(), headers };
}
