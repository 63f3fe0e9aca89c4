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
