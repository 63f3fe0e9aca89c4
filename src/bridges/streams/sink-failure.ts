/**
 * Why a sink's delivery failed, in words fit to store and show on the sink (`failureReason`):
 * whether a retry can help, the status the destination replied, and a message with the
 * sink's credentials taken out (URL passwords, the signing secret, secret-looking config
 * values and header values), since transports and broker clients may quote them.
 */
import { SinkDeliveryError } from './sink-transport.js';

export interface SinkFailure {
  reason: string;
  status: number | null;
  /** False when only a change to the sink can help: it is paused. */
  retryable: boolean;
}

/** The longest reason stored. */
const MAX_REASON = 1000;
/** Config keys whose values are credentials. */
const SECRET_KEY = /pass|secret|token|key|auth|credential/i;

/** Describes an error thrown by a transport (or by opening it); unknown errors are retryable. */
export function describeFailure(e: unknown, credentials: readonly string[]): SinkFailure {
  const message = e instanceof Error ? e.message || e.name : String(e);
  const reason = redact(message, credentials);
  if (e instanceof SinkDeliveryError) return { reason, status: e.status, retryable: e.retryable };
  return { reason, status: null, retryable: true };
}

/** A failure that no retry can fix (bad config, a transformation that throws). */
export function permanentFailure(reason: string, credentials: readonly string[] = []): SinkFailure {
  return { reason: redact(reason, credentials), status: null, retryable: false };
}

/** The values of a sink that must never appear in a stored reason. */
export function credentialsOf(secret: string, headers: Record<string, string>, config: unknown): string[] {
  const out = [secret, ...Object.values(headers)];
  const walk = (v: unknown, key: string): void => {
    if (typeof v === 'string') {
      if (SECRET_KEY.test(key)) out.push(v);
    } else if (Array.isArray(v)) v.forEach((x) => walk(x, key));
    else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, k);
  };
  walk(config, '');
  // Short values would blank out ordinary words.
  return out.filter((s) => s.length >= 4);
}

/** The message with URL user info and every credential replaced by `***`, cut to a stored length. */
export function redact(message: string, credentials: readonly string[]): string {
  let out = message.replace(/([a-z][a-z0-9+.-]*:\/\/)[^\s/@]+@/gi, '$1***@');
  for (const c of credentials) out = out.split(c).join('***');
  return out.length > MAX_REASON ? `${out.slice(0, MAX_REASON - 3)}...` : out;
}
