/**
 * What some suites need beyond Node: a PostgreSQL server, a Chromium browser. Without one, a
 * suite is skipped with a reason that says how to enable it — except under CI (`CI=true`),
 * where everything must run, so a missing service fails the suites that need it.
 */
import { existsSync } from 'node:fs';
import postgres from 'postgres';
import { TEST_DATABASE_URL } from './pg.js';

export const IN_CI = process.env.CI === 'true';

/** Where the browser tests look for Chromium. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

async function postgresMissing(): Promise<string | false> {
  const sql = postgres(TEST_DATABASE_URL, { max: 1, connect_timeout: 3, onnotice: () => {} });
  try {
    await sql`SELECT 1`;
    return false;
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    return `PostgreSQL is not reachable at ${TEST_DATABASE_URL} (${why}): start it, or set SWITCHBOARD_TEST_DATABASE_URL, to run this suite`;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/** A skip reason for suites that need PostgreSQL, or false when they run. */
export const skipWithoutPostgres: string | false = IN_CI ? false : await postgresMissing();

/** A skip reason for suites that need Chromium, or false when they run. */
export const skipWithoutBrowser: string | false =
  IN_CI || existsSync(CHROMIUM) ? false : `no browser at ${CHROMIUM}: install Debian's chromium (apt-get install chromium) or set CHROMIUM_PATH to run this suite`;

/** Where the connection pooler suite looks for PgBouncer (Debian's package `pgbouncer`). */
export const PGBOUNCER = process.env.PGBOUNCER_PATH ?? '/usr/sbin/pgbouncer';

/** A skip reason for the suite that runs a node through PgBouncer, or false when it runs. */
export const skipWithoutPgbouncer: string | false =
  IN_CI || existsSync(PGBOUNCER) ? false : `no PgBouncer at ${PGBOUNCER}: install Debian's pgbouncer (apt-get install pgbouncer) or set PGBOUNCER_PATH to run this suite`;

/** The message brokers the sink and queue-source suites use, on this machine's usual ports. */
export const BROKERS = {
  rabbitMq: { url: process.env.SWITCHBOARD_TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672', port: 5672, start: 'rabbitmq-server -detached' },
  redis: { url: process.env.SWITCHBOARD_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379', port: 6379, start: 'redis-server --daemonize yes --port 6379' },
  nats: { url: process.env.SWITCHBOARD_TEST_NATS_URL ?? 'nats://127.0.0.1:4222', port: 4222, start: 'nats-server -js' },
  mqtt: { url: process.env.SWITCHBOARD_TEST_MQTT_URL ?? 'mqtt://127.0.0.1:1883', port: 1883, start: 'mosquitto -d' },
} as const;

export type BrokerName = keyof typeof BROKERS;

async function brokerMissing(name: BrokerName): Promise<string | false> {
  const { url, start } = BROKERS[name];
  const { hostname, port } = new URL(url);
  const { createConnection } = await import('node:net');
  const reachable = await new Promise<boolean>((resolve) => {
    const socket = createConnection({ host: hostname, port: Number(port), timeout: 2000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
  return reachable ? false : `${name} is not reachable at ${url}: start it (${start}) to run this suite`;
}

/** A skip reason for suites that need a broker, or false when they run (always false under CI). */
export async function skipWithoutBroker(name: BrokerName): Promise<string | false> {
  return IN_CI ? false : brokerMissing(name);
}
