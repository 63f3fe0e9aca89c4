/** Entry point of the `switchboard` command. */
import { program } from './cli/index.js';

program()
  .parseAsync(process.argv)
  .catch((e: unknown) => {
    process.stderr.write(`switchboard: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
