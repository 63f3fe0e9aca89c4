/** Entry point of the `switchboard` command. */
import { run } from './cli/run.js';

/** Exits once what was written to stdout is flushed (a pipe may still hold it). */
const exit = (code: number): void => void process.stdout.write('', () => process.exit(code));

void run(process.argv).then((code) => {
  if (code !== undefined) exit(code);
});
