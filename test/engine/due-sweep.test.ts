/**
 * The sweep for due deliveries: a sweep asked for while one is running is never lost. The
 * one running may have read the store before what woke the second was written (a retry that
 * just fell due), so it runs once more as soon as the first ends — without waiting on the
 * clock, which here stands still as a test's injected clock does between its steps. And a
 * retry's time is never lost to deliveries due already and held back.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { DueSweep } from '../../src/engine/due-sweep.js';
import type { Store } from '../../src/storage/contract/store.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { T0 } from '../helpers/fixtures.js';
import { eventually } from '../helpers/eventually.js';
import { turns } from '../helpers/turns.js';

const DAY = 86_400_000;
const logger = pino({ level: 'silent' });

/** A store whose answers to `dueEndpoints` the test gives, one call at a time. */
function heldStore() {
  const answers: ((ids: string[]) => void)[] = [];
  const store = {
    dueEndpoints: () => new Promise<string[]>((r) => answers.push(r)),
    nextDueAt: async () => null,
  };
  return { store: store as unknown as Store, answers };
}

describe('sweep for due deliveries', () => {
  it('sweeps again at once when asked while a sweep was running', async () => {
    const clock = new FakeClock(T0);
    const { store, answers } = heldStore();
    const due: string[] = [];
    const sweep = new DueSweep({ store, clock, logger, intervalMs: 10 * DAY, onDue: (id) => due.push(id) });
    sweep.schedule(0);
    await turns();
    assert.equal(answers.length, 1, 'the first sweep asks the store');
    // A retry falls due while the store answers the first sweep, which read before it was written.
    sweep.schedule(0);
    await turns();
    assert.equal(answers.length, 1, 'one sweep at a time');
    answers[0]!([]);
    await turns();
    await turns();
    assert.equal(answers.length, 2, 'the second sweep runs once the first ended, with no time passing');
    answers[1]!(['ep_1']);
    await turns();
    assert.deepEqual(due, ['ep_1']);
    await turns();
    assert.equal(answers.length, 2, 'and no more: nothing asked for a third');
    sweep.stop();
  });

  it('looks again when something falls due later, though deliveries due already wait (held back by a cap, a circuit or their key)', async () => {
    const clock = new FakeClock(T0);
    const asked: { due: number[]; next: number[] } = { due: [], next: [] };
    const store = {
      // One endpoint always has deliveries due that its claims leave waiting; a retry falls due at T0 + 50.
      dueEndpoints: async (now: number) => (asked.due.push(now), ['ep_held']),
      nextDueAt: async (after: number) => (asked.next.push(after), after < T0 + 50 ? T0 + 50 : null),
    } as unknown as Store;
    const sweep = new DueSweep({ store, clock, logger, intervalMs: 10 * DAY, onDue: () => {} });
    sweep.schedule(0);
    await turns();
    await turns();
    assert.deepEqual(asked, { due: [T0], next: [T0] }, 'the next due time asked for is the one after the sweep');
    clock.advance(50);
    await turns();
    await turns();
    assert.deepEqual(asked.due, [T0, T0 + 50], 'the retry is looked for when it falls due, not at the safety net');
    sweep.stop();
  });

  it('reads every page of due endpoints, so many waiting behind open circuits never hide another', async () => {
    const clock = new FakeClock(T0);
    const ids = ['ep_1', 'ep_2', 'ep_3', 'ep_4', 'ep_5'];
    const pages: (string | undefined)[] = [];
    const store = {
      dueEndpoints: async (_now: number, limit: number, after?: string) => (pages.push(after), ids.filter((id) => after === undefined || id > after).slice(0, limit)),
      nextDueAt: async () => null,
    } as unknown as Store;
    const due: string[] = [];
    const sweep = new DueSweep({ store, clock, logger, intervalMs: 10 * DAY, onDue: (id) => due.push(id), pageSize: 2 });
    sweep.schedule(0);
    for (let i = 0; i < 6; i++) await turns();
    assert.deepEqual(due, ids, 'the last endpoint too');
    assert.deepEqual(pages, [undefined, 'ep_2', 'ep_4']);
    sweep.stop();
  });

  it('rests four times as long as a sweep took before the next one starts', async () => {
    const clock = new FakeClock(T0);
    const rest = new FakeClock(0);
    const { store, answers } = heldStore();
    const sweep = new DueSweep({ store, clock, logger, intervalMs: 10 * DAY, onDue: () => {}, restClock: rest });
    sweep.schedule(0);
    await turns();
    assert.equal(answers.length, 1);
    // The store takes 10 ms to answer.
    clock.advance(10);
    rest.advance(10);
    answers[0]!([]);
    await turns(2);
    sweep.schedule(0);
    await turns();
    rest.advance(39);
    await turns();
    assert.equal(answers.length, 1, 'not within 40 ms of the end of a 10 ms sweep');
    rest.advance(1);
    await turns();
    assert.equal(answers.length, 2, 'then at once');
    answers[1]!([]);
    await turns();
    sweep.stop();
  });

  it('measures a sweep by its work, not by a clock that jumped meanwhile, and never rests past the interval', async () => {
    const clock = new FakeClock(T0);
    const rest = new FakeClock(0);
    const { store, answers } = heldStore();
    const sweep = new DueSweep({ store, clock, logger, intervalMs: 5_000, onDue: () => {}, restClock: rest });
    sweep.schedule(0);
    await turns();
    // The wall clock steps a day forward while the store answers in 10 ms.
    clock.advance(DAY);
    rest.advance(10);
    answers[0]!([]);
    await turns(2);
    sweep.schedule(0);
    await turns();
    rest.advance(40);
    await turns();
    assert.equal(answers.length, 2, 'the rest is four times the 10 ms of work, not four days');
    // A sweep whose work took 10 s rests the 5 s interval, not 40 s.
    rest.advance(10_000);
    clock.advance(10_000);
    answers[1]!([]);
    await turns(2);
    sweep.schedule(0);
    await turns();
    rest.advance(4_999);
    await turns();
    assert.equal(answers.length, 2);
    rest.advance(1);
    await turns();
    assert.equal(answers.length, 3, 'at most the safety-net interval');
    answers[2]!([]);
    await turns();
    sweep.stop();
  });

  it('ends the rest on real time, though the node\'s clock stands still after jumping during a sweep', async () => {
    // A test's injected clock jumps a day while a sweep waits for the store; a retry falls due
    // meanwhile (asked for during the sweep) and the clock then stands still: the sweep after
    // the rest must still come, without the clock moving again.
    const clock = new FakeClock(T0);
    const rest = new FakeClock(0);
    const { store, answers } = heldStore();
    const sweep = new DueSweep({ store, clock, logger, intervalMs: 100 * DAY, onDue: () => {}, restClock: rest });
    sweep.schedule(0);
    await turns();
    clock.advance(DAY);
    rest.advance(30);
    sweep.schedule(0);
    await turns();
    answers[0]!([]);
    await turns(3);
    assert.equal(answers.length, 1, 'resting 120 ms after a 30 ms sweep');
    rest.advance(120);
    await turns(2);
    assert.equal(answers.length, 2, 'the sweep asked for comes once the rest has passed');
    answers[1]!([]);
    await turns();
    sweep.stop();
  });

  it('waits for the rest on the monotonic clock by default', async () => {
    const clock = new FakeClock(T0);
    const { store, answers } = heldStore();
    const sweep = new DueSweep({ store, clock, logger, intervalMs: 100 * DAY, onDue: () => {} });
    sweep.schedule(0);
    await turns();
    clock.advance(DAY); // a day on the node's clock, some real ms of work
    await new Promise((r) => setTimeout(r, 5));
    sweep.schedule(0);
    await turns();
    answers[0]!([]);
    await eventually(async () => answers.length === 2 || null, 'the next sweep, with the node\'s clock standing still', { timeoutMs: 5_000 });
    answers[1]!([]);
    await turns();
    sweep.stop();
  });
});
