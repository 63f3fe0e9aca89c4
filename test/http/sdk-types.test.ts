/**
 * The SDK's types are generated from the server's OpenAPI document: this fails when the
 * document changed and `npm run sdk:types` was not run, and when the SDK reaches outside
 * its own package.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SDK_TYPES } from '../../packages/sdk/codegen/manifest.js';
import { generateTypes } from '../../packages/sdk/codegen/openapi-to-ts.js';
import { startServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const sdk = join(root, 'packages/sdk');

describe('SDK types', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(async () => server.close());

  it('match the OpenAPI document (run `npm run sdk:types` after changing a schema the SDK uses)', async () => {
    const doc = await (await fetch(server.url + '/api/v1/openapi.json')).json();
    const expected = generateTypes(doc, SDK_TYPES);
    const actual = readFileSync(join(sdk, 'src/generated/types.ts'), 'utf8');
    assert.equal(actual, expected);
  });

  it('the package imports nothing outside itself but the platform', () => {
    for (const file of readdirSync(join(sdk, 'src'), { recursive: true }) as string[]) {
      if (!file.endsWith('.ts')) continue;
      const text = readFileSync(join(sdk, 'src', file), 'utf8');
      for (const m of text.matchAll(/from '([^']+)'/g)) {
        const spec = m[1]!;
        assert.ok(spec.startsWith('./') || (spec.startsWith('../') && !spec.startsWith('../../')), `${file} imports ${spec}`);
        assert.doesNotMatch(spec, /^node:/, `${file} stays platform-neutral`);
      }
    }
  });
});
