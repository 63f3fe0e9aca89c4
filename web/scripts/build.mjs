// Builds the web app into web/dist with the root install's TypeScript and Vite (the dashboard's
// dependencies are part of the one `npm install`; nothing here touches the network).
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = (name) => root + 'node_modules/.bin/' + name;
execFileSync(bin('tsc'), ['-p', 'web/tsconfig.json', '--noEmit'], { cwd: root, stdio: 'inherit' });
execFileSync(bin('vite'), ['build', 'web', '--logLevel', 'warn'], { cwd: root, stdio: 'inherit' });
