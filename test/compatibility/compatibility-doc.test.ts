/**
 * docs/compatibility.md keeps up with the SDK: its table lists exactly the methods of the
 * pinned `svix` SDK (found by reflection, scripts/sdk-methods.mjs), once each, each with a
 * status; and the README and docs/api.md link to it.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const { sdkMethods } = (await import(pathToFileURL(join(root, 'scripts/sdk-methods.mjs')).href)) as { sdkMethods: () => string[] };

/** The rows of the doc's method table: method name and status. */
function tableRows(doc: string): { method: string; status: string }[] {
  const begin = doc.indexOf('<!-- sdk-methods:begin -->');
  const end = doc.indexOf('<!-- sdk-methods:end -->');
  assert.ok(begin >= 0 && end > begin, 'docs/compatibility.md marks its table with <!-- sdk-methods:begin --> and <!-- sdk-methods:end -->');
  const rows: { method: string; status: string }[] = [];
  for (const m of doc.slice(begin, end).matchAll(/^\| `([^`]+)` \| (.+) \|$/gm)) rows.push({ method: m[1]!, status: m[2]! });
  return rows;
}

describe('docs/compatibility.md', () => {
  const doc = readFileSync(join(root, 'docs/compatibility.md'), 'utf8');

  it('lists every SDK method once, and nothing else', () => {
    const listed = tableRows(doc).map((r) => r.method);
    const methods = sdkMethods();
    assert.ok(methods.length > 100);
    assert.deepEqual(listed.filter((m, i) => listed.indexOf(m) !== i), [], 'listed twice');
    assert.deepEqual(methods.filter((m) => !listed.includes(m)), [], 'SDK methods missing from the table (node scripts/sdk-methods.mjs prints them)');
    assert.deepEqual(listed.filter((m) => !methods.includes(m)), [], 'rows for methods the SDK does not have');
  });

  it('gives each a status, and the answer of the ones not supported', () => {
    for (const { method, status } of tableRows(doc)) {
      assert.match(status, /^(Supported|Supported with differences: .+|Supported \(.+\)|Not supported( yet)?: \d{3} `\w+` .+)$/, `${method}: ${status}`);
    }
  });

  it('is linked from the README and docs/api.md', () => {
    assert.match(readFileSync(join(root, 'README.md'), 'utf8'), /\]\(docs\/compatibility\.md\)/);
    assert.match(readFileSync(join(root, 'docs/api.md'), 'utf8'), /\]\(compatibility\.md\)/);
  });
});
