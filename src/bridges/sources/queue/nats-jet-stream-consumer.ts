/**
 * Consumes a NATS JetStream durable consumer (`nats` client) with explicit acks. The durable
 * consumer is created when missing (explicit ack, `ackWaitSecs`, the filter subject), so a
 * message delivered and never acked (a crash, a store that failed) is redelivered after the
 * ack wait. A message is acked once stored (`ackAck`, confirmed by the server); one the store
 * could not take is nak'ed.
 *
 * A dead message is published, with its reason, to the dead-letter subject (headers
 * `Switchboard-Dead-Letter-Reason`, `-Stream`, `-Subject`, `-Sequence`, `-Durable`; message id
 * `<stream>.<durable>.<sequence>`, so a republish after a crash is dropped by the duplicate
 * window), and terminated (`term`) once JetStream has stored that copy. The default subject
 * `switchboard.dead-letter.<stream>.<durable>` is captured by the stream
 * `switchboard-dead-letter`, created when no stream captures it; a configured subject must be
 * captured by a stream of the user's. A dead-letter subject that the consumed stream captures
 * and the consumer reads would bring every bad message back: such a session is refused.
 */
import type { ConnectionOptions, JetStreamClient, JetStreamManager, JsMsg, NatsConnection } from 'nats';
import { natsDeadLetterSubject } from '../../../domain/sources/queue-config.js';
import type { NatsJetStreamConfig } from '../../../domain/sources/queue-config.js';
import type { CheckedBroker } from '../../../engine/broker-address.js';
import { isNoStream } from '../../../engine/nats-errors.js';
import type { ConsumerSession } from './queue-consumer.js';
import { untilStopped } from './session-end.js';

/** Server options from the URL, to the checked address: credentials as user and password, or a user alone as a token. */
function optionsOf(url: string, to: CheckedBroker): ConnectionOptions {
  const u = new URL(url);
  const port = u.port || '4222';
  const o: ConnectionOptions = { servers: `${to.host}:${port}`, reconnect: false, timeout: 10_000, name: 'switchboard queue source' };
  const user = decodeURIComponent(u.username);
  const pass = decodeURIComponent(u.password);
  if (user && pass) Object.assign(o, { user, pass });
  else if (user) o.token = user;
  // The client hands every tls option to tls.connect; its type lacks `servername`.
  if (u.protocol === 'tls:') o.tls = { servername: to.servername } as NonNullable<ConnectionOptions['tls']>;
  return o;
}

/** The stream that captures the default dead-letter subjects when no stream of the user's does. */
export const DEAD_LETTER_STREAM = 'switchboard-dead-letter';
const DEAD_LETTER_PREFIX = 'switchboard.dead-letter.';

/** Whether a subject (no wildcards) matches a filter (`*` one token, `>` the rest). */
export function subjectMatches(filter: string, subject: string): boolean {
  const f = filter.split('.');
  const t = subject.split('.');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '>') return t.length > i;
    if (i >= t.length || (f[i] !== '*' && f[i] !== t[i])) return false;
  }
  return f.length === t.length;
}

/** A header value: one line, bounded. */
const headerValue = (v: string): string => v.replace(/[\r\n]+/g, ' ').slice(0, 1024);

const notFound = (e: unknown): boolean => /not found/i.test(String((e as Error)?.message)) || (e as { api_error?: { err_code?: number } })?.api_error?.err_code === 10014;

export async function consumeNatsJetStream(c: NatsJetStreamConfig, s: ConsumerSession): Promise<void> {
  const to = await s.pinAddress(c.url);
  const end = untilStopped(s.signal);
  let nc: NatsConnection | null = null;
  try {
    // The client library is loaded on first connect: a server without such a source never pays for it.
    const { AckPolicy, connect, nanos } = await import('nats');
    nc = await connect(optionsOf(c.url, to));
    void nc.closed().then((err) => end.fail(err ?? new Error('connection to NATS closed')));
    const jsm = await nc.jetstreamManager();
    let filter: string | null;
    try {
      filter = (await jsm.consumers.info(c.stream, c.durable)).config.filter_subject || null;
    } catch (e: unknown) {
      if (!notFound(e)) throw e;
      await jsm.consumers.add(c.stream, {
        durable_name: c.durable,
        ack_policy: AckPolicy.Explicit,
        ack_wait: nanos(c.ackWaitSecs * 1000),
        ...(c.filterSubject !== null ? { filter_subject: c.filterSubject } : {}),
      });
      filter = c.filterSubject;
    }
    const js = nc.jetstream();
    const deadLetter = await deadLetterPlace(c, jsm, js, filter);
    const consumer = await js.consumers.get(c.stream, c.durable);
    const messages = await consumer.consume({ max_messages: 100 });
    s.signal.addEventListener('abort', () => void messages.stop(), { once: true });
    s.connected();
    const work = async (): Promise<void> => {
      for await (const m of messages) {
        if (end.settled) return;
        try {
          const outcome = await s.handle({ body: Buffer.from(m.data), brokerId: String(m.seq), typeHint: m.headers?.get('type') || null });
          if (outcome.kind === 'stored') await m.ackAck();
          else {
            await deadLetter(m, outcome.reason);
            m.term();
          }
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

/**
 * Checks the dead-letter subject against the consumed stream and returns how a dead message
 * is published there (resolves once JetStream has stored it).
 */
async function deadLetterPlace(c: NatsJetStreamConfig, jsm: JetStreamManager, js: JetStreamClient, filter: string | null): Promise<(m: JsMsg, reason: string) => Promise<void>> {
  const subject = natsDeadLetterSubject(c);
  const capturedBy = await jsm.streams.find(subject).catch(() => null);
  if (capturedBy === c.stream && (filter === null || subjectMatches(filter, subject))) {
    throw new Error(`the dead-letter subject "${subject}" is captured by the stream "${c.stream}" and read by this consumer: bad messages would come back; set config.deadLetterSubject to a subject this consumer does not read`);
  }
  const { headers } = await import('nats');
  return async (m, reason) => {
    const h = headers();
    h.set('Switchboard-Dead-Letter-Reason', headerValue(reason));
    h.set('Switchboard-Dead-Letter-Stream', c.stream);
    h.set('Switchboard-Dead-Letter-Subject', headerValue(m.subject));
    h.set('Switchboard-Dead-Letter-Sequence', String(m.seq));
    h.set('Switchboard-Dead-Letter-Durable', c.durable);
    const type = m.headers?.get('type');
    if (type) h.set('type', headerValue(type));
    const publish = (): Promise<unknown> => js.publish(subject, m.data, { msgID: `${c.stream}.${c.durable}.${m.seq}`, headers: h });
    try {
      await publish();
    } catch (e: unknown) {
      if (!isNoStream(e)) throw e;
      if (!subject.startsWith(DEAD_LETTER_PREFIX)) throw new Error(`no JetStream stream captures the dead-letter subject "${subject}" (config.deadLetterSubject): add it to a stream's subjects`);
      await jsm.streams.add({ name: DEAD_LETTER_STREAM, subjects: [`${DEAD_LETTER_PREFIX}>`] }).catch((err: unknown) => {
        // Another consumer made it first.
        if (!/already in use|exists/i.test(String((err as Error)?.message))) throw err;
      });
      await publish();
    }
  };
}
