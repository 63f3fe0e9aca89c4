/**
 * Consumes a RabbitMQ queue (amqplib) with manual acknowledgement and a prefetch window.
 * A message is acked once stored, nacked without requeue when it is dead (so the queue's own
 * dead-letter exchange applies, if it has one), and left unacked when the store fails: the
 * connection is closed and the broker redelivers it to the next session.
 */
import type { Channel, ConsumeMessage } from 'amqplib';
import type { RabbitMqConfig } from '../../../domain/sources/queue-config.js';
import type { ConsumerSession } from './queue-consumer.js';
import { untilStopped } from './session-end.js';

/** How long a close handshake may take before the socket is cut. */
const CLOSE_WAIT_MS = 2000;

export async function consumeRabbitMq(c: RabbitMqConfig, s: ConsumerSession): Promise<void> {
  const to = await s.pinAddress(c.uri);
  // The client library is loaded on first connect: a server without such a source never pays for it.
  const { connect } = await import('amqplib');
  const conn = await connect(to.uri, { timeout: 10_000, servername: to.servername, clientProperties: { connection_name: 'switchboard queue source' } });
  const end = untilStopped(s.signal);
  conn.on('error', (e: Error) => end.fail(e));
  conn.on('close', () => end.fail(new Error('connection to RabbitMQ closed')));
  try {
    const ch: Channel = await conn.createChannel();
    ch.on('error', (e: Error) => end.fail(e));
    ch.on('close', () => end.fail(new Error('RabbitMQ channel closed')));
    await ch.checkQueue(c.queue);
    await ch.prefetch(c.prefetch);
    // One message at a time, in delivery order; the prefetch window keeps the next ones ready.
    let chain = Promise.resolve();
    const take = async (msg: ConsumeMessage): Promise<void> => {
      if (end.settled) return; // the session is ending: the broker redelivers it
      try {
        const outcome = await s.handle({ body: msg.content, brokerId: typeof msg.properties.messageId === 'string' && msg.properties.messageId ? msg.properties.messageId : null, typeHint: typeof msg.properties.type === 'string' && msg.properties.type ? msg.properties.type : null });
        if (end.settled) return;
        if (outcome.kind === 'stored') ch.ack(msg);
        else ch.nack(msg, false, false);
      } catch (e: unknown) {
        end.fail(e);
      }
    };
    await ch.consume(
      c.queue,
      (msg) => {
        if (msg === null) return end.fail(new Error(`the consumer of queue "${c.queue}" was cancelled by RabbitMQ (queue deleted?)`));
        chain = chain.then(() => take(msg));
      },
      { noAck: false },
    );
    s.connected();
    await end.promise;
  } finally {
    end.fail(new Error('closing'));
    // Closing the connection returns every unacknowledged message to the queue. A broker that
    // does not answer the close in time has its socket cut, which does the same.
    const closed = await Promise.race([conn.close().then(() => true, () => true), new Promise<false>((r) => setTimeout(() => r(false), CLOSE_WAIT_MS).unref())]);
    if (!closed) (conn.connection as unknown as { stream?: { destroy(): void } }).stream?.destroy();
  }
}
