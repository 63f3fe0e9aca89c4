// Writes packages/sdk/src/generated/types.ts from the OpenAPI document of a server built from
// this checkout (run `npm run build` first; `npm run sdk:types` does both).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadConfig } from '../dist/src/config.js';
import { createSwitchboard } from '../dist/src/composition/server.js';
import { generateTypes } from '../dist/packages/sdk/codegen/openapi-to-ts.js';
import { SDK_TYPES } from '../dist/packages/sdk/codegen/manifest.js';

const dataDir = mkdtempSync(join(tmpdir(), 'switchboard-sdk-types-'));
const sb = await createSwitchboard(
  loadConfig({ SWITCHBOARD_DATA_DIR: dataDir, SWITCHBOARD_ADMIN_TOKEN: 'sdk-types', SWITCHBOARD_RETENTION_DAYS: '0' }),
  { logger: pino({ level: 'silent' }) },
);
try {
  await sb.app.ready();
  const text = generateTypes(sb.app.swagger(), SDK_TYPES);
  writeFileSync('packages/sdk/src/generated/types.ts', text);
  process.stdout.write(`wrote packages/sdk/src/generated/types.ts (${SDK_TYPES.length} types)\n`);
} finally {
  await sb.close();
  rmSync(dataDir, { recursive: true, force: true });
}
