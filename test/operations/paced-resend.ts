/**
 * Loaded into a server process with `node --import` by background-task-crash.test.ts: each
 * resend of a message to an endpoint takes `TEST_RESEND_PACE_MS` longer, so a bulk replay of
 * a thousand messages runs for seconds, as one over a large store does, and the process can
 * be killed in the middle of it.
 */
import { ComposedStore } from '../../src/storage/shared/composed-store.js';

const pace = Number(process.env.TEST_RESEND_PACE_MS ?? '0');
const resend = Object.getOwnPropertyDescriptor(ComposedStore.prototype, 'resend')!.value as ComposedStore['resend'];
ComposedStore.prototype.resend = async function (this: ComposedStore, ...args: Parameters<ComposedStore['resend']>): Promise<void> {
  await new Promise((r) => setTimeout(r, pace));
  return resend.apply(this, args);
};
