/**
 * Consumes a NATS JetStream durable consumer (`nats` client) with explicit acks. The durable
 * consumer is created when missing (explicit ack, `ackWaitSecs`, the filter subject), so a
 * message delivered and never acked (a crash, a store that failed) is redelivered after the
 * ack wait. A message is acked once stored (`ackAck`, confirmed by the server); a dead one is
 * terminated (`term`; its reason is in the source's log: servers before 2.10 ignore a `term`
 * that carries a reason); one the store could not take is nak'ed.
 */
import type { ConnectionOptions, NatsConnection } from 'nats';
import type { NatsJetStreamConfig } from '../../../domain/sources/queue-config.js';
import type { ConsumerSession } from './queue-consumer.js';
import { untilStopped } from './session-end.js';

/** Server options from the URL: credentials as user and password, or a user alone as a token. */
function optionsOf(url: string): ConnectionOptions {
  const u = new URL(url);
  const port = u.port || '4222';
  const o: ConnectionOptions = { servers: `${u.hostname}:${port}`, reconnect: false, timeout: 10_000, name: 'switchboard queue source' };
  const user = decodeURIComponent(u.username);
  const pass = decodeURIComponent(u.password);
  if (user && pass) Object.assign(o, { user, pass });
  else if (user) o.token = user;
  if (u.protocol === 'tls:') o.tls = {};
  return o;
}

const notFound = (e: unknown): boolean => /not found/i.test(String((e as Error)?.message)) || (e as { api_error?: { err_code?: number } })?.api_error?.err_code === 10014;

export async function consumeNatsJetStream(c: NatsJetStreamConfig, s: ConsumerSession): Promise<void> {
  await s.checkAddress(c.url);
  const end = untilStopped(s.signal);
  let nc: NatsConnection | null = null;
  try {
    // The client library is loaded on first connect: a server without such a source never pays for it.
    const { AckPolicy, connect, nanos } = await import('nats');
    nc = await connect(optionsOf(c.url));
    void nc.closed().then((err) => end.fail(err ?? new Error('connection to NATS closed')));
    const jsm = await nc.jetstreamManager();
    try {
      await jsm.consumers.info(c.stream, c.durable);
    } catch (e: unknown) {
      if (!notFound(e)) throw e;
      await jsm.consumers.add(c.stream, {
        durable_name: c.durable,
        ack_policy: AckPolicy.Explicit,
        ack_wait: nanos(c.ackWaitSecs * 1000),
        ...(c.filterSubject !== null ? { filter_subject: c.filterSubject } : {}),
      });
    }
    const consumer = await nc.jetstream().consumers.get(c.stream, c.durable);
    const messages = await consumer.consume({ max_messages: 100 });
    s.signal.addEventListener('abort', () => void messages.stop(), { once: true });
    s.connected();
    const work = async (): Promise<void> => {
      for await (const m of messages) {
        if (end.settled) return;
        try {
          const outcome = await s.handle({ body: Buffer.from(m.data), brokerId: String(m.seq), typeHint: m.headers?.get('type') || null });
          if (outcome.kind === 'stored') await m.ackAck();
          else m.term();
        } catch (e: unknown) {
          m.nak(1000);
          throw e;
        }
      }
    };
    work().then(
      () => end.fail(new Error('the NATS consumer ended')),
      (e: unknown) => end.fail(e),
    );
    await end.promise;
  } finally {
    end.fail(new Error('closing'));
    await nc?.close().catch(() => undefined);
  }
}
