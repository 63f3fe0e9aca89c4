// Builds (npm run build) only when a source file changed since the last complete build, so
// `npm start` and `npm test` after an unchanged checkout start at once. The fingerprint covers
// the path, size and modification time of every input; it is written after a build succeeds.
import { execSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const INPUT_DIRS = ['src', 'test', 'bench', 'web/src', 'scripts', 'web/scripts'];
const INPUT_FILES = ['package.json', 'package-lock.json', 'tsconfig.json', 'web/tsconfig.json', 'web/vite.config.ts', 'web/index.html'];
const STAMP = 'dist/.build-fingerprint';
const OUTPUTS = ['dist/src/main.js', 'web/dist/index.html'];

function fingerprint() {
  const h = createHash('sha256');
  const add = (p) => {
    const s = statSync(p);
    h.update(`${p}\0${s.size}\0${s.mtimeMs}\n`);
  };
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) add(p);
    }
  };
  for (const d of INPUT_DIRS) if (existsSync(d)) walk(d);
  for (const f of INPUT_FILES) if (existsSync(f)) add(f);
  return h.digest('hex');
}

const now = fingerprint();
const built = existsSync(STAMP) && readFileSync(STAMP, 'utf8') === now && OUTPUTS.every((f) => existsSync(f));
if (!built) {
  execSync('npm run build', { stdio: 'inherit' });
  writeFileSync(STAMP, now);
}
