/**
 * docs/compatibility.md keeps up with the SDK: its table lists exactly the methods of the
 * pinned `svix` SDK (found by reflection, scripts/sdk-methods.mjs), once each, each with a
 * status in one of the four forms the page documents (a "Not supported" one with a status
 * and error code that belong together); and the README and docs/api.md link to it.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ERRORS } from '../../src/domain/errors.js';
import { streamMethods } from '../helpers/sdk-calls.js';

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

  it('documents the four forms of a status', () => {
    const intro = doc.slice(doc.indexOf('## Every SDK method'), doc.indexOf('<!-- sdk-methods:begin -->'));
    for (const form of ['**Supported**', '**Supported (a note)**', '**Supported with differences: ...**', '**Not supported: NNN `code` ...**']) {
      assert.ok(intro.includes(form), `the statuses are explained: ${form}`);
    }
  });

  it('gives each a status in one of those forms, and the answer of the ones not supported', () => {
    const rows = tableRows(doc);
    const notSupported = rows.filter((r) => r.status.startsWith('Not supported'));
    for (const { method, status } of rows) {
      const form =
        /^Supported$/.exec(status) ??
        /^Supported \((?!.*differ)[^()]*(?:\([^()]*\)[^()]*)*\)$/.exec(status) ??
        /^Supported with differences: \S.*\S$/.exec(status) ??
        /^Not supported: (\d{3}) `(\w+)` \S.*$/.exec(status);
      assert.ok(form, `${method}: '${status}' is none of the documented forms`);
      if (form[1] !== undefined && form[2] !== undefined) {
        const code = form[2] as keyof typeof ERRORS;
        assert.ok(Object.hasOwn(ERRORS, code), `${method}: no error code ${code}`);
        assert.equal(Number(form[1]), ERRORS[code], `${method}: ${code} is answered with ${ERRORS[code]}`);
      }
      // A note that the method is tested elsewhere is only for the streaming suite's methods.
      if (status.includes('test/streams/stream-api.test.ts')) assert.ok(streamMethods([method]).length === 1, `${method}: not in the streaming suite`);
    }
    if (notSupported.length === 0) assert.match(doc, /Today every method is supported\./);
    else assert.doesNotMatch(doc, /Today every method is supported/, 'the page says every method is supported, but some are not');
  });

  it('is linked from the README and docs/api.md', () => {
    assert.match(readFileSync(join(root, 'README.md'), 'utf8'), /\]\(docs\/compatibility\.md\)/);
    assert.match(readFileSync(join(root, 'docs/api.md'), 'utf8'), /\]\(compatibility\.md\)/);
  });
});
