// Builds the web app into web/dist, installing its dependencies first when they are
// missing or older than its lockfile (a fresh clone, or after a dependency change).
import { execSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const web = fileURLToPath(new URL('..', import.meta.url));
const installed = web + 'node_modules/.package-lock.json';
const stale = !existsSync(installed) || statSync(web + 'package-lock.json').mtimeMs > statSync(installed).mtimeMs;
if (stale) execSync('npm ci --no-audit --no-fund', { cwd: web, stdio: 'inherit' });
execSync('npm run build', { cwd: web, stdio: 'inherit' });
