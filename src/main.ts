/** Entry point of the `switchboard` command. */
import { CommanderError } from 'commander';
import { program } from './cli/index.js';
import { CliError, EXIT } from './cli/exit-codes.js';

/** Exits once what was written to stdout is flushed (a pipe may still hold it). */
const exit = (code: number): void => void process.stdout.write('', () => process.exit(code));

program()
  .parseAsync(process.argv)
  .catch((e: unknown) => {
    // Commander has already printed its message (or the help); usage errors exit 2.
    if (e instanceof CommanderError) return exit(e.exitCode === 0 ? EXIT.ok : EXIT.usage);
    process.stderr.write(`switchboard: ${e instanceof Error ? e.message : String(e)}\n`);
    exit(e instanceof CliError ? e.exitCode : EXIT.error);
  });
