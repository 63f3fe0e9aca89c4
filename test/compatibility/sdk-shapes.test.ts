/**
 * The check of answers against the `svix` SDK's models (test/helpers/sdk-shapes.ts), on
 * its own: it reads the SDK's models, finds each kind of wrong shape (a required field
 * missing, a wrong JSON type, a value outside an enum, an unknown variant of a tagged union,
 * a bad date, a bad nested item) and names the field; and, while watching, an SDK call
 * against a server answering a wrong shape throws, where the SDK alone would not.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ShapeError, checkShape, modelNames, watchSdkAnswers } from '../helpers/sdk-shapes.js';
import { sdkClient } from '../helpers/svix-sdk.js';

const NOW = new Date().toISOString();
const APP = { id: 'app_1', name: 'A', uid: null, rateLimit: null, metadata: {}, createdAt: NOW, updatedAt: NOW };
/** APP without its required `name`. */
const NAMELESS: Partial<typeof APP> = { ...APP };
delete NAMELESS.name;

describe('checking answers against the svix SDK models', () => {
  it('reads the models, enums and tagged unions of the SDK', () => {
    const names = modelNames();
    assert.ok(names.length > 200, `models: ${names.length}`);
    for (const n of ['ApplicationOut', 'MessageStatus', 'BackgroundTaskStatus', 'StreamSinkOut', 'IngestSourceOut', 'EnvironmentOut']) assert.ok(names.includes(n), n);
  });

  it('accepts answers that fit, with extra fields', () => {
    assert.deepEqual(checkShape('ApplicationOut', { ...APP, extension: 1 }), []);
    assert.deepEqual(checkShape('ListResponseApplicationOut', { data: [APP], done: true, iterator: null, prevIterator: null }), []);
    assert.deepEqual(checkShape('BackgroundTaskOut', { id: 't', status: 'running', task: 'endpoint.replay', data: {}, updatedAt: NOW }), []);
  });

  it('names each wrong field', () => {
    assert.deepEqual(checkShape('ApplicationOut', NAMELESS), ['ApplicationOut.name: required field missing']);
    assert.deepEqual(checkShape('ApplicationOut', { ...APP, name: 7 }), ['ApplicationOut.name: expected a string, got number 7']);
    assert.deepEqual(checkShape('ApplicationOut', { ...APP, createdAt: 'yesterday' }), ['ApplicationOut.createdAt: expected a date-time string, got string "yesterday"']);
    assert.deepEqual(checkShape('ApplicationOut', { ...APP, metadata: { team: 1 } }), ['ApplicationOut.metadata.team: expected a string, got number 1']);
    assert.deepEqual(checkShape('ApplicationOut', { ...APP, rateLimit: 'fast' }), ['ApplicationOut.rateLimit: expected a number, got string "fast"']);
    assert.deepEqual(checkShape('ListResponseApplicationOut', { data: [APP, NAMELESS], done: 'yes', iterator: null }), [
      'ListResponseApplicationOut.data[1].name: required field missing',
      'ListResponseApplicationOut.done: expected a boolean, got string "yes"',
    ]);
    assert.deepEqual(checkShape('BackgroundTaskOut', { id: 't', status: 'done', task: 'endpoint.replay', data: {}, updatedAt: NOW }), [
      'BackgroundTaskOut.status: string "done" is not a BackgroundTaskStatus ("running", "finished", "failed")',
    ]);
    assert.deepEqual(checkShape('IntegrationKeyOut', []), ['IntegrationKeyOut: expected IntegrationKeyOut (an object), got an array']);
    const sink = checkShape('StreamSinkOut', { type: 'fax', config: {} });
    assert.ok(sink.includes(`StreamSinkOut.type: string "fax" is none of StreamSinkOut's types`), sink.join('\n'));
    assert.ok(sink.includes('StreamSinkOut.status: required field missing'), sink.join('\n'));
  });

  describe('watching the SDK', () => {
    let server: Server;
    let url: string;
    let answer: unknown;
    before(async () => {
      server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer)));
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(() => new Promise<void>((r) => server.close(() => r())));

    it('makes a call whose answer does not fit throw, naming the request and the field', async () => {
      const svix = sdkClient(url, 'token');
        answer = NAMELESS;
      // The SDK alone reads it: the name is just undefined.
      assert.equal((await svix.application.get('app_1')).name, undefined);

      const watch = watchSdkAnswers();
      try {
        await assert.rejects(svix.application.get('app_1'), (e: unknown) => {
          assert.ok(e instanceof ShapeError);
          assert.match(e.message, /^GET \/api\/v1\/app\/app_1: .*ApplicationOut\.name: required field missing/);
          return true;
        });
        assert.equal(watch.violations.length, 1);
        answer = APP;
        assert.equal((await svix.application.get('app_1')).name, 'A');
        assert.deepEqual(
          watch.checked.map((a) => [a.model, a.problems.length]),
          [
            ['ApplicationOut', 1],
            ['ApplicationOut', 0],
          ],
        );
      } finally {
        watch.stop();
      }
      answer = NAMELESS;
      assert.equal((await svix.application.get('app_1')).name, undefined, 'stopped');
    });
  });
});
