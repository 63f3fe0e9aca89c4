/**
 * Consumes a Redis stream through a consumer group (`redis` client): XREADGROUP with BLOCK,
 * XACK once stored. On every connection this consumer first reads its own pending entries
 * (read before a crash, never acked), then claims entries left pending by other consumers for
 * over a minute (XAUTOCLAIM), then reads new ones. A dead entry is copied with its reason to
 * `<streamKey>:dead` (XADD) and acked; an entry the store could not take stays pending.
 *
 * The entry's JSON body is its field `payload` (or `body`, or `data`); an entry without one
 * is taken as an object of its fields. Its field `type` is the broker's type of the message.
 */
import type { RedisStreamConfig } from '../../../domain/sources/queue-config.js';
import type { ConsumerSession } from './queue-consumer.js';
import type { BrokerMessage } from './queue-message.js';
import { untilStopped } from './session-end.js';

/** Entries pending on another consumer for this long are taken over. */
const CLAIM_IDLE_MS = 60_000;
const BATCH = 100;
const BLOCK_MS = 2000;

type Entry = { id: string; fields: Record<string, string> | null };

function toEntry(raw: unknown): Entry | null {
  if (!Array.isArray(raw) || typeof raw[0] !== 'string') return null;
  const list: unknown = raw[1];
  if (!Array.isArray(list)) return { id: raw[0], fields: null }; // deleted from the stream while pending
  const fields: Record<string, string> = {};
  for (let i = 0; i + 1 < list.length; i += 2) fields[String(list[i])] = String(list[i + 1]);
  return { id: raw[0], fields };
}

/** The entries of an XREADGROUP reply (one stream); RESP2 replies (the client is opened with RESP2). */
function readReply(reply: unknown): Entry[] {
  if (!Array.isArray(reply) || reply.length === 0) return [];
  const stream = reply[0] as unknown[];
  return Array.isArray(stream?.[1]) ? (stream[1] as unknown[]).map(toEntry).filter((e): e is Entry => e !== null) : [];
}

function messageOf(e: Entry & { fields: Record<string, string> }): BrokerMessage {
  const f = e.fields;
  const text = f.payload ?? f.body ?? f.data ?? JSON.stringify(f);
  return { body: Buffer.from(text, 'utf8'), brokerId: e.id, typeHint: f.type ?? null };
}

export async function consumeRedisStream(c: RedisStreamConfig, s: ConsumerSession): Promise<void> {
  const to = await s.pinAddress(c.uri);
  const end = untilStopped(s.signal);
  // The client library is loaded on first connect: a server without such a source never pays for it.
  const { createClient } = await import('redis');
  const tls = to.uri.startsWith('rediss:') ? { tls: true as const, servername: to.servername } : {};
  const client = createClient({ url: to.uri, RESP: 2, socket: { reconnectStrategy: false, connectTimeout: 10_000, ...tls } });
  client.on('error', (e: Error) => end.fail(e));
  const stop = (): void => void client.destroy();
  s.signal.addEventListener('abort', stop, { once: true });
  const consumer = c.consumer ?? s.nodeName;
  const cmd = (args: string[]): Promise<unknown> => client.sendCommand(args);
  try {
    await Promise.race([client.connect(), end.promise]);
    try {
      await cmd(['XGROUP', 'CREATE', c.streamKey, c.group, '0', 'MKSTREAM']);
    } catch (e: unknown) {
      if (!String((e as Error).message).includes('BUSYGROUP')) throw e;
    }
    s.connected();

    const take = async (e: Entry): Promise<void> => {
      if (e.fields === null) {
        await cmd(['XACK', c.streamKey, c.group, e.id]);
        return;
      }
      const m = messageOf(e as Entry & { fields: Record<string, string> });
      const outcome = await s.handle(m);
      if (outcome.kind === 'dead') {
        await cmd(['XADD', `${c.streamKey}:dead`, '*', 'id', e.id, 'reason', outcome.reason, 'source', c.streamKey, 'payload', m.body.toString('utf8')]);
      }
      await cmd(['XACK', c.streamKey, c.group, e.id]);
    };

    const work = async (): Promise<void> => {
      // This consumer's own pending entries first: read before a crash, never acked.
      for (let after = '0'; !end.settled; ) {
        const entries = readReply(await cmd(['XREADGROUP', 'GROUP', c.group, consumer, 'COUNT', String(BATCH), 'STREAMS', c.streamKey, after]));
        if (entries.length === 0) break;
        for (const e of entries) {
          if (end.settled) return;
          await take(e);
          after = e.id;
        }
      }
      // Then entries another consumer read and left pending for a while (a node that is gone).
      for (let start = '0-0'; !end.settled; ) {
        const reply = (await cmd(['XAUTOCLAIM', c.streamKey, c.group, consumer, String(CLAIM_IDLE_MS), start, 'COUNT', String(BATCH)])) as unknown[];
        const entries = Array.isArray(reply?.[1]) ? (reply[1] as unknown[]).map(toEntry).filter((e): e is Entry => e !== null) : [];
        for (const e of entries) {
          if (end.settled) return;
          await take(e);
        }
        start = typeof reply?.[0] === 'string' ? reply[0] : '0-0';
        if (start === '0-0') break;
      }
      while (!end.settled) {
        const entries = readReply(await cmd(['XREADGROUP', 'GROUP', c.group, consumer, 'COUNT', String(BATCH), 'BLOCK', String(BLOCK_MS), 'STREAMS', c.streamKey, '>']));
        for (const e of entries) {
          if (end.settled) return;
          await take(e);
        }
      }
    };
    work().then(
      () => end.fail(new Error('stopped')),
      (e: unknown) => end.fail(e),
    );
    await end.promise;
  } finally {
    s.signal.removeEventListener('abort', stop);
    end.fail(new Error('closing'));
    if (client.isOpen) client.destroy();
  }
}
