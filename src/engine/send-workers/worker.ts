/**
 * A send worker: a thread with its own undici connection pools and SSRF guard that signs and
 * sends the requests the main thread posts, reads and caps the responses, and posts the
 * results back in batches (one message per event-loop turn).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { parseNetworks } from '../../domain/network.js';
import { HttpSender } from '../http-sender.js';
import type { SendResult } from '../http-sender.js';
import type { FromWorker, SendAnswer, SendWorkerData, ToWorker } from './protocol.js';

const port = parentPort!;
const data = workerData as SendWorkerData;
// The same guard as on the main thread: built from the same setting, applied to the address connected to.
const sender = new HttpSender({ allowedNetworks: parseNetworks(data.allowedNetworks), timeoutMs: data.timeoutMs });

let answers: SendAnswer[] = [];
let flushing = false;

function answer(id: number, result: SendResult): void {
  answers.push({ id, result });
  if (flushing) return;
  flushing = true;
  // Every result that completes in this turn of the loop goes back in one message.
  setImmediate(() => {
    flushing = false;
    const batch = answers;
    answers = [];
    port.postMessage({ kind: 'results', answers: batch } satisfies FromWorker);
  });
}

port.on('message', (m: ToWorker) => {
  if (m.kind === 'exit') process.exit(m.code);
  for (const job of m.jobs) {
    sender.send(job.req).then(
      (r) => answer(job.id, r),
      (e: unknown) => answer(job.id, { kind: 'error', reason: `send failed: ${e instanceof Error ? e.message : String(e)}`, durationMs: 0 }),
    );
  }
});
port.postMessage({ kind: 'ready' } satisfies FromWorker);
