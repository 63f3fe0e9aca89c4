/**
 * Stopping the operational webhook sender waits for the events it is turning into requests:
 * they read the store, and the server closes the store right after.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { publishAttempt } from '../../src/engine/channels.js';
import type { Sender } from '../../src/engine/http-sender.js';
import { OperationalWebhookSender } from '../../src/operations/operational-webhooks-sender.js';
import type { Store } from '../../src/storage/contract/store.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { turns } from '../helpers/turns.js';

describe('operational webhook sender: stop', () => {
  it('resolves once the events being handled have finished reading the store', async () => {
    let release!: () => void;
    const reads: string[] = [];
    const store = {
      async listAttemptsByMessage() {
        reads.push('attempts');
        await new Promise<void>((r) => (release = r));
        reads.push('attempts done');
        return { data: [], iterator: null, prevIterator: null, done: true };
      },
      operationalWebhooks: { all: async () => (reads.push('endpoints'), []) },
    } as unknown as Store;
    const sender = new OperationalWebhookSender({ store, clock: new FakeClock(), sender: {} as Sender, logger: pino({ level: 'silent' }) });
    sender.start();
    // A resend delivered: whether it recovers a failure is read from the message's last attempts.
    publishAttempt({
      scope: store,
      appId: 'app_1',
      endpointId: 'ep_1',
      messageId: 'msg_1',
      eventId: null,
      attemptId: 'atmpt_2',
      attemptNumber: 2,
      trigger: 'manual',
      outcome: 'delivered',
      statusCode: 200,
      durationMs: 1,
      at: 0,
    });
    await turns(2);
    assert.deepEqual(reads, ['attempts']);

    let stopped = false;
    const stopping = sender.stop().then(() => (stopped = true));
    await turns(5);
    assert.equal(stopped, false, 'still reading the store');
    release();
    await stopping;
    assert.deepEqual(reads, ['attempts', 'attempts done'], 'the read finished; nothing more is read once stopped');
  });

  it('waits for an event emitted by another part of the server (a task that finished) to read the endpoints', async () => {
    let release!: () => void;
    let read = false;
    const store = {
      operationalWebhooks: {
        async all() {
          await new Promise<void>((r) => (release = r));
          read = true;
          return [];
        },
      },
    } as unknown as Store;
    const sender = new OperationalWebhookSender({ store, clock: new FakeClock(), sender: {} as Sender, logger: pino({ level: 'silent' }) });
    sender.start();
    const emitted = sender.emit('background_task.finished', { taskId: 'qtask_1' });
    let stopped = false;
    const stopping = sender.stop().then(() => (stopped = true));
    await turns(5);
    assert.equal(stopped, false);
    release();
    await stopping;
    assert.equal(read, true);
    await emitted;
  });
});
