/** How the NATS client says that no JetStream stream captures a subject, for the JetStream sink and queue source alike. */

/**
 * True when a JetStream call failed because no stream captures its subject: a publish gets
 * "503 no responders" (nobody answers on the subject), a stream lookup "no stream matches".
 */
export function isNoStream(e: unknown): boolean {
  return (e as { code?: unknown } | null)?.code === '503' || /no responders|no stream matches/i.test(String((e as Error | null)?.message));
}
