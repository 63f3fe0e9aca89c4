// Completes dist/ after `tsc`: copies non-TypeScript assets (SQL migrations) next to the compiled
// files, and writes the group entries of the API test files (test-groups.mjs).
import { cpSync, existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeTestGroups } from './test-groups.mjs';

function walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (p.endsWith('.sql')) cpSync(p, join('dist', p));
  }
}
if (existsSync('src')) walk('src');
if (existsSync('dist/test')) writeTestGroups('dist/test');
