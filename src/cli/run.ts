/**
 * Runs the `switchboard` command line and decides how it ends: every failure leaves a reason
 * on standard error and a non-zero exit code (see exit-codes.ts).
 */
import { CommanderError } from 'commander';
import type { Command } from 'commander';
import { program } from './index.js';
import { CliError, EXIT } from './exit-codes.js';

/** Commander's own endings that have already shown the help or the version. */
const SHOWN = new Set(['commander.help', 'commander.helpDisplayed', 'commander.version']);

const messageOf = (e: unknown): string => (e instanceof Error ? e.message || e.name : String(e));

/**
 * Parses `argv` and runs the command. Resolves with the exit code of a failure (or of
 * `--help`), or undefined when the command finished and the process may end by itself
 * (`serve` keeps running; `verify` sets `process.exitCode`).
 */
export async function run(argv: readonly string[], writeErr: (text: string) => void = (t) => void process.stderr.write(t)): Promise<number | undefined> {
  const cli = program();
  // Commander prints the errors it finds while parsing, but not an error of its kind thrown
  // by an action (an InvalidArgumentError from an argument read there): note what it printed.
  let printed = false;
  const watch = (c: Command): void => {
    c.configureOutput({
      outputError: (text, write) => {
        printed = true;
        write(text);
      },
    });
    c.commands.forEach(watch);
  };
  watch(cli);
  try {
    await cli.parseAsync(argv);
    return undefined;
  } catch (e: unknown) {
    if (e instanceof CommanderError) {
      if (e.exitCode === 0) return EXIT.ok;
      if (!printed && !SHOWN.has(e.code)) writeErr(`switchboard: ${messageOf(e)}\n`);
      return EXIT.usage;
    }
    writeErr(`switchboard: ${messageOf(e)}\n`);
    return e instanceof CliError ? e.exitCode : EXIT.error;
  }
}
