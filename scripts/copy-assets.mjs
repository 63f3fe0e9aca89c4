// Copies non-TypeScript assets (SQL migrations) next to the compiled files in dist/.
import { cpSync, existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (p.endsWith('.sql')) cpSync(p, join('dist', p));
  }
}
if (existsSync('src')) walk('src');
