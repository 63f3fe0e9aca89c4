// Builds (npm run build) only when a source file changed since the last complete build, so
// `npm start` and `npm test` after an unchanged checkout start at once. The fingerprint covers
// the path, size and modification time of every input; it is written after a build succeeds.
// What the project writes itself (benchmark results) is not an input: a benchmark run must not
// make the next `npm start` build again.
import { execSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const INPUT_DIRS = ['src', 'test', 'bench', 'web/src', 'scripts', 'web/scripts'];
const INPUT_FILES = ['package.json', 'package-lock.json', 'tsconfig.json', 'web/tsconfig.json', 'web/vite.config.ts', 'web/index.html'];
/** Folders inside the input folders that hold outputs, not sources. */
const NOT_INPUTS = new Set(['bench/results']);
const STAMP = 'dist/.build-fingerprint';
const OUTPUTS = ['dist/src/main.js', 'web/dist/index.html'];

/** The fingerprint of the build's inputs under `root`. */
export function fingerprint(root = '.') {
  const h = createHash('sha256');
  const add = (p) => {
    const s = statSync(join(root, p));
    h.update(`${p}\0${s.size}\0${s.mtimeMs}\n`);
  };
  const walk = (dir) => {
    for (const e of readdirSync(join(root, dir), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = `${dir}/${e.name}`;
      if (e.isDirectory()) {
        if (!NOT_INPUTS.has(p)) walk(p);
      } else if (e.isFile()) add(p);
    }
  };
  for (const d of INPUT_DIRS) if (existsSync(join(root, d))) walk(d);
  for (const f of INPUT_FILES) if (existsSync(join(root, f))) add(f);
  return h.digest('hex');
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const now = fingerprint();
  const built = existsSync(STAMP) && readFileSync(STAMP, 'utf8') === now && OUTPUTS.every((f) => existsSync(f));
  if (!built) {
    execSync('npm run build', { stdio: 'inherit' });
    writeFileSync(STAMP, now);
  }
}
