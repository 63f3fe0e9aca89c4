/** Bounds a wait that a client library may leave pending forever (a connect, a reply). */
import { SinkDeliveryError } from '../sink-transport.js';

/** `work`, or a retryable SinkDeliveryError saying `what` timed out after `ms`. */
export async function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new SinkDeliveryError(`timeout: ${what} took more than ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A connection being opened, bounded like `withDeadline`; one that opens after the deadline
 * is closed with `close`, not leaked.
 */
export async function connectWithin<T>(connecting: Promise<T>, ms: number, what: string, close: (late: T) => unknown): Promise<T> {
  try {
    return await withDeadline(connecting, ms, what);
  } catch (e) {
    connecting.then(close).catch(() => {});
    throw e;
  }
}
