/** `switchboard migrate`: applies pending database migrations, then exits. */
import { loadConfig } from '../config.js';
import { migrateStore } from '../composition/open-store.js';

/** Migrates the configured database (PostgreSQL under its advisory lock, or the SQLite file). */
export async function migrate(): Promise<void> {
  const result = await migrateStore(loadConfig(), (waiting) => process.stderr.write(`waiting: ${waiting}\n`));
  if (result.applied === null) process.stdout.write(`${result.where} is up to date\n`);
  else {
    for (const name of result.applied) process.stdout.write(`applied ${name}\n`);
    process.stdout.write(result.applied.length > 0 ? 'PostgreSQL schema is up to date\n' : 'PostgreSQL schema was already up to date\n');
  }
  // Last, where an operator running it before a deploy reads: the database works, but will slow down.
  for (const advice of result.advisories) process.stderr.write(`warning: ${advice}\n`);
}
