// Removes the compiled output of src/, test/ and bench/ before a build, so a file deleted or
// moved in the sources leaves no stale copy behind (a stale test file would still run).
import { rmSync } from 'node:fs';

for (const dir of ['dist/src', 'dist/test', 'dist/bench']) rmSync(dir, { recursive: true, force: true });
