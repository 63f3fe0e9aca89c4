/**
 * The worker thread that hosts the transformation sandbox. It answers one job at a time;
 * the main thread watches each job and terminates this thread if one overruns, so no
 * transformation can hold the main event loop or keep memory it bloated.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { threadCpuPath } from './run-clock.js';
import { TransformSandbox } from './sandbox.js';
import type { RunResult, SandboxLimits } from './sandbox.js';

/** A job for the worker. */
export type Job =
  | { id: number; op: 'run'; key: string; code: string; vars: string; input: string }
  | { id: number; op: 'runOnce'; code: string; vars: string; input: string }
  | { id: number; op: 'check'; code: string }
  | { id: number; op: 'evict'; key: string };

/**
 * The worker's answer; `compilations` lets tests see that cached code is compiled once. When
 * ready, it tells where its thread's CPU time can be read (for the watchdog).
 */
export type Answer = { id: number; result: RunResult | string | null; compilations: number } | { id: -1; ready: true; cpuPath: string | null };

const WARM_UP = `function handler(w) { const p = w.payload; p.list = [1, 2, 3].map((x) => x * 2); p.s = JSON.stringify({ a: /b+/.test('abb') }); w.method = 'PUT'; return w }`;

async function main(): Promise<void> {
  const port = parentPort!;
  const sandbox = new TransformSandbox(workerData as SandboxLimits);
  await sandbox.ready();
  // WebAssembly functions are compiled on first use: run typical code once so the first real
  // transformation is not charged for it against its time limit.
  const input = '{"method":"POST","url":"http://localhost/","eventType":"warm.up","cancel":false,"payload":{"a":[1,{"b":"c"}]}}';
  for (let i = 0; i < 3; i++) sandbox.runOnce(WARM_UP, '{}', input);
  port.on('message', (job: Job) => {
    let result: RunResult | string | null;
    switch (job.op) {
      case 'run':
        result = sandbox.run(job.key, job.code, job.vars, job.input);
        break;
      case 'runOnce':
        result = sandbox.runOnce(job.code, job.vars, job.input);
        break;
      case 'check':
        result = sandbox.check(job.code);
        break;
      case 'evict':
        sandbox.evict(job.key);
        result = null;
        break;
    }
    port.postMessage({ id: job.id, result, compilations: sandbox.compilations } satisfies Answer);
  });
  port.postMessage({ id: -1, ready: true, cpuPath: threadCpuPath() } satisfies Answer);
}

void main();
