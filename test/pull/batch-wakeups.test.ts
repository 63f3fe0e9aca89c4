/**
 * The parts behind "readers never slow writers", in isolation: a group commit reports each
 * committed batch once; the notifier wakes a reader once per batch (and only for a batch
 * it wants); readers at one position share one store read until the next commit; a page's
 * SSE frames are sliced to fit a stream's buffer, at least one at a time.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { GroupCommit } from '../../src/engine/group-commit.js';
import { EventBus } from '../../src/engine/event-bus.js';
import { MAX_WAKE_INTERVAL_MS, PullNotifier, WAKE_INTERVAL_MS, wakeInterval } from '../../src/bridges/pull/pull-notifier.js';
import { PullService } from '../../src/bridges/pull/pull.js';
import type { PullSettings } from '../../src/bridges/pull/pull.js';
import type { PullStore } from '../../src/storage/contract/pull.js';
import { filterKey, SharedLogReads } from '../../src/bridges/pull/shared-log-reads.js';
import { encodedPage, framesWithin } from '../../src/bridges/pull/sse-frames.js';
import type { LogFilter, LogRead } from '../../src/storage/contract/pull.js';
import { monotonicClock } from '../../src/platform/monotonic-clock.js';
import type { Message } from '../../src/domain/model.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { message, T0 } from '../helpers/fixtures.js';
import { turns } from '../helpers/turns.js';

const msg = (appId: string, eventType = 'a.b', over: Partial<Message> = {}): Message => message(appId, T0, { eventType, ...over });

describe('group commit: one report per committed batch', () => {
  it('reports every item submitted together once, with its results, before the submitters resume', async () => {
    const reports: { items: number[]; results: string[] }[] = [];
    let resumedBeforeReport = false;
    const gc = new GroupCommit<number, string>(
      async (items) => items.map((i) => `r${i}`),
      { committed: (items, results) => reports.push({ items: [...items], results: [...results] }) },
    );
    const all = [1, 2, 3, 4, 5].map((i) => gc.submit(i).then((r) => ((resumedBeforeReport ||= reports.length === 0), r)));
    assert.deepEqual(await Promise.all(all), ['r1', 'r2', 'r3', 'r4', 'r5']);
    assert.deepEqual(reports, [{ items: [1, 2, 3, 4, 5], results: ['r1', 'r2', 'r3', 'r4', 'r5'] }]);
    assert.equal(resumedBeforeReport, false);
  });

  it('reports nothing for a batch that failed; a failing observer does not fail a committed batch', async () => {
    let reports = 0;
    const failing = new GroupCommit<number, number>(
      async () => {
        throw new Error('disk full');
      },
      { committed: () => reports++ },
    );
    await assert.rejects(failing.submit(1), /disk full/);
    assert.equal(reports, 0);
    const throwing = new GroupCommit<number, number>(
      async (items) => items,
      {
        committed: () => {
          throw new Error('observer');
        },
      },
    );
    assert.equal(await throwing.submit(7), 7);
  });
});

describe('pull notifier: one wake-up per batch', () => {
  it('wakes a reader once for a batch with any message it wants, never for one without, after the publishers', async () => {
    const bus = new EventBus();
    const clock = new FakeClock();
    const pace = new FakeClock();
    const invalidated: string[] = [];
    const notifier = new PullNotifier(bus, clock, (appId) => invalidated.push(appId), pace);
    // Readers are woken on the next turn, or, right after a wake-up, once the interval has passed.
    const woke = async (): Promise<void> => {
      await turns();
      pace.advance(WAKE_INTERVAL_MS);
    };
    let checks = 0;
    const wantsC = notifier.subscribe('app_1', (m) => (checks++, m.eventType === 'c'));
    const otherApp = notifier.subscribe('app_2', () => true);

    bus.emit({ kind: 'messages.published', messages: [msg('app_1', 'a'), msg('app_1', 'b')] });
    await woke();
    assert.equal(await wantsC.next(0), false, 'a batch without a wanted message does not wake');
    assert.equal(checks, 2);

    wantsC.reset();
    const woken = wantsC.next(Infinity);
    bus.emit({ kind: 'messages.published', messages: [msg('app_1', 'c'), msg('app_1', 'c'), msg('app_1', 'c')] });
    assert.equal(checks, 2, 'readers wake on the next turn, after the code that published');
    assert.deepEqual(invalidated, ['app_1', 'app_1'], 'but shared answers are outdated at once');
    assert.equal(await woken, true);
    assert.equal(checks, 3, 'the first wanted message decides; the rest of the batch is not looked at');

    // Wake-ups it has not acted on coalesce: further batches cost no filter checks.
    bus.emit({ kind: 'messages.published', messages: [msg('app_1', 'c')] });
    bus.emit({ kind: 'messages.published', messages: [msg('app_1', 'c')] });
    await woke();
    assert.equal(checks, 3);
    assert.equal(await wantsC.next(0), true);
    assert.equal(await otherApp.next(0), false, 'another application is not woken');

    bus.emit({ kind: 'messages.published', messages: [msg('app_1', 'x'), msg('app_2', 'y')] });
    await woke();
    assert.equal(await otherApp.next(0), true, 'a batch spanning applications wakes each one');
    assert.deepEqual(invalidated, ['app_1', 'app_1', 'app_1', 'app_1', 'app_1', 'app_2'], 'every batch outdates the answers of its applications');
    notifier.close();
  });

  it('under a flow of commits wakes a reader at most once per interval, and on the next turn after a quiet spell', async () => {
    const bus = new EventBus();
    const pace = new FakeClock();
    const notifier = new PullNotifier(bus, new FakeClock(), undefined, pace);
    const s = notifier.subscribe('app_1', () => true);
    const wakes: number[] = [];
    const wake = s.wake.bind(s);
    // A reader that acts on each wake-up at once.
    s.wake = () => (wakes.push(pace.now()), wake(), s.reset());
    bus.emit({ kind: 'messages.published', messages: [msg('app_1')] });
    await turns();
    assert.equal(wakes.length, 1, 'the first commit wakes on the next turn');
    // A commit every 2 ms.
    let lastCommit = 0;
    for (let i = 0; i < 40; i++) {
      bus.emit({ kind: 'messages.published', messages: [msg('app_1')] });
      lastCommit = pace.now();
      await turns();
      pace.advance(2);
    }
    pace.advance(WAKE_INTERVAL_MS);
    assert.ok(wakes.at(-1)! >= lastCommit, 'the last commit woke it too');
    const gaps = wakes.slice(1).map((t, i) => t - wakes[i]!);
    assert.ok(gaps.every((g) => g >= WAKE_INTERVAL_MS), `gaps between wake-ups: ${gaps.join(', ')} ms`);
    assert.ok(wakes.length <= 2 + (40 * 2) / WAKE_INTERVAL_MS, `${wakes.length} wake-ups for 41 commits`);

    // After a quiet spell, the next commit wakes it on the next turn again.
    pace.advance(100);
    const before = wakes.length;
    bus.emit({ kind: 'messages.published', messages: [msg('app_1')] });
    await turns();
    assert.equal(wakes.length, before + 1);
    notifier.close();
  });

  it('a timer that fires before the interval has passed waits out the rest', async () => {
    const bus = new EventBus();
    // Time as the event loop may see it on a busy machine: the timer fires, the interval has not passed.
    let now = 0;
    const fired: (() => void)[] = [];
    const early = { now: () => now, setTimer: (_ms: number, fn: () => void) => (fired.push(fn), { cancel: () => undefined }) };
    const notifier = new PullNotifier(bus, new FakeClock(), undefined, early);
    let wakes = 0;
    const s = notifier.subscribe('app_1', () => true);
    const wake = s.wake.bind(s);
    s.wake = () => (wakes++, wake(), s.reset());
    bus.emit({ kind: 'messages.published', messages: [msg('app_1')] });
    await turns();
    assert.equal(wakes, 1);
    bus.emit({ kind: 'messages.published', messages: [msg('app_1')] });
    assert.equal(fired.length, 1);
    now = WAKE_INTERVAL_MS - 1;
    fired.shift()!();
    assert.equal(wakes, 1, 'not woken before the interval has passed');
    assert.equal(fired.length, 1, 'waits again for the rest');
    now = WAKE_INTERVAL_MS;
    fired.shift()!();
    assert.equal(wakes, 2);
    notifier.close();
  });

  it('batches arriving in one turn wake a reader once', async () => {
    const bus = new EventBus();
    const notifier = new PullNotifier(bus, new FakeClock(), undefined, monotonicClock);
    let wakes = 0;
    const s = notifier.subscribe('app_1', () => true);
    const wake = s.wake.bind(s);
    s.wake = () => (wakes++, wake());
    s.reset();
    const woken = s.next(Infinity);
    for (let i = 0; i < 10; i++) bus.emit({ kind: 'messages.published', messages: [msg('app_1')] });
    assert.equal(await woken, true);
    assert.equal(wakes, 1);
    notifier.close();
  });
});

describe('pull notifier: many readers are woken less often', () => {
  it('spends at most the wake-up budget: the interval grows with the readers woken, within its bounds', () => {
    assert.equal(wakeInterval(0), WAKE_INTERVAL_MS);
    assert.equal(wakeInterval(1), WAKE_INTERVAL_MS);
    assert.equal(wakeInterval(10), WAKE_INTERVAL_MS);
    assert.equal(wakeInterval(40), 20);
    assert.equal(wakeInterval(100), 50);
    assert.equal(wakeInterval(250), 125);
    assert.equal(wakeInterval(100_000), MAX_WAKE_INTERVAL_MS);
  });

  it('with 100 readers under a flow of commits, wakes them at most every 50 ms; back to the shortest interval once they are few', async () => {
    const bus = new EventBus();
    const pace = new FakeClock();
    const notifier = new PullNotifier(bus, new FakeClock(), undefined, pace);
    const readers = Array.from({ length: 100 }, () => notifier.subscribe('app_1', () => true));
    const wakes: number[] = [];
    const first = readers[0]!;
    const wake = first.wake.bind(first);
    first.wake = () => (wakes.push(pace.now()), wake());
    bus.emit({ kind: 'messages.published', messages: [msg('app_1')] });
    await turns();
    assert.equal(notifier.interval, 50);
    assert.equal(notifier.pacing, true);
    // 300 ms of a commit every 2 ms, the readers acting on each wake-up at once.
    for (let i = 0; i < 150; i++) {
      readers.forEach((r) => r.reset());
      bus.emit({ kind: 'messages.published', messages: [msg('app_1')] });
      await turns();
      pace.advance(2);
    }
    const gaps = wakes.slice(1).map((t, i) => t - wakes[i]!);
    assert.ok(wakes.length >= 6, `${wakes.length} wake-ups in 300 ms`);
    assert.ok(gaps.every((g) => g >= 50), `gaps between wake-ups: ${gaps.join(', ')} ms`);

    for (const r of readers.slice(1)) r.close();
    pace.advance(60);
    first.reset();
    bus.emit({ kind: 'messages.published', messages: [msg('app_1')] });
    assert.equal(await first.next(1000), true);
    assert.equal(notifier.interval, WAKE_INTERVAL_MS, 'one reader: the shortest interval again');
    assert.equal(notifier.pacing, false);
    notifier.close();
  });
});

describe('long polls while wake-ups are paced', { timeout: 10_000 }, () => {
  const settings = { pollIntervalSeconds: 1, maxStreams: 10 } as PullSettings;
  /**
   * A pull service with `crowd` long polls waiting at the head of app_1, woken once so the
   * notifier paces. It returns once every poll of the crowd has read again after the wake-up
   * (not after a fixed sleep: on a busy machine a timer can fire before the wake-up's turn).
   */
  async function service(crowd: number): Promise<{ pull: PullService; bus: EventBus; waiting: Promise<string[]>[] }> {
    const bus = new EventBus();
    const pull = new PullService({} as PullStore, new FakeClock(), monotonicClock, bus, settings);
    let reads = 0;
    const empty = async (): Promise<string[]> => (reads++, []);
    const waiting = Array.from({ length: crowd }, () => pull.waitFor('app_1', () => true, 60_000, undefined, empty, (x) => x.length === 0));
    await turns(2);
    bus.emit({ kind: 'messages.published', messages: [msg('app_1')] });
    while (reads < 2 * crowd) await turns();
    return { pull, bus, waiting };
  }

  it('a poll that finds only the newest few messages waits for the next wake-up, then answers with what came meanwhile; its wait is not counted', async () => {
    const { pull, bus } = await service(100);
    let reads = 0;
    let held = 0;
    const answer = pull.waitFor(
      'app_1',
      () => true,
      30_000,
      { onHeld: () => held++ },
      async () => (++reads === 1 ? ['m1'] : ['m1', 'm2']),
      (x) => x.length === 0,
      () => true,
    );
    let answered = false;
    void answer.then(() => (answered = true));
    await turns(5);
    assert.equal(answered, false, 'held while wake-ups are paced');
    assert.equal(held, 1, 'a held poll gives its rate-limit token back');
    bus.emit({ kind: 'messages.published', messages: [msg('app_1')] });
    assert.deepEqual(await answer, ['m1', 'm2']);
    assert.equal(reads, 2);
    pull.close();
  });

  it('answers at once with a full page, and with any page when there are few readers', async () => {
    const paced = await service(100);
    let reads = 0;
    const full = await paced.pull.waitFor('app_1', () => true, 30_000, undefined, async () => (reads++, ['m1']), (x) => x.length === 0, () => false);
    assert.deepEqual(full, ['m1']);
    assert.equal(reads, 1, 'a full page: more is waiting, answered at once');
    paced.pull.close();

    const few = await service(3);
    reads = 0;
    const partial = await few.pull.waitFor('app_1', () => true, 30_000, undefined, async () => (reads++, ['m1']), (x) => x.length === 0, () => true);
    assert.deepEqual(partial, ['m1']);
    assert.equal(reads, 1, 'not paced: answered at once');
    few.pull.close();
  });
});

describe('shared log reads', () => {
  const page = (after: number, n: number, more = false): LogRead => ({
    messages: Array.from({ length: n }, (_, i) => ({ seq: after + i + 1, message: msg('app_1', 'a', { id: `msg_${after + i + 1}`, payload: '{"n":1}' }) })),
    more,
    horizon: 0,
  });

  it('answers readers at one position with one store read, until the application commits again', async () => {
    const clock = new FakeClock();
    const calls: string[] = [];
    const reads = new SharedLogReads(async (appId, after, limit, f) => (calls.push(`${appId}@${after}/${limit} ${filterKey(f)}`), page(after, 2)), () => clock.now());
    const all: LogFilter = { eventTypes: null, channels: null };
    const answers = await Promise.all(Array.from({ length: 50 }, () => reads.reader('app_1', all)(10, 100)));
    assert.equal(calls.length, 1);
    assert.ok(answers.every((a) => a === answers[0]), 'the same answer object, so its encoding is shared too');
    assert.equal(reads.shared, 49);

    await reads.reader('app_1', all)(10, 50);
    await reads.reader('app_1', { eventTypes: ['a'], channels: null })(10, 100);
    await reads.reader('app_2', all)(10, 100);
    assert.equal(calls.length, 4, 'another limit, filter or application is another read');

    reads.invalidate('app_1');
    await reads.reader('app_1', all)(10, 100);
    assert.equal(calls.length, 5, 'a commit of the application outdates its answers');
    await reads.reader('app_2', all)(10, 100);
    assert.equal(calls.length, 5, 'but not those of other applications');

    clock.advance(1001);
    await reads.reader('app_2', all)(10, 100);
    assert.equal(calls.length, 6, 'an answer is kept one second at most');
  });

  it('keeps a bounded amount of content: readers catching up at many positions pin nothing old', async () => {
    const big = JSON.stringify({ x: 'x'.repeat(1024 * 1024) });
    let calls = 0;
    const reads = new SharedLogReads(async (_a, after) => {
      calls++;
      return { messages: [{ seq: after + 1, message: msg('app_1', 'a', { payload: big }) }], more: true, horizon: 0 };
    }, () => 0);
    const read = reads.reader('app_1', { eventTypes: null, channels: null });
    for (let p = 0; p < 100; p++) await read(p, 1);
    assert.equal(calls, 100);
    assert.ok(reads.size.bytes <= 16 * 1024 * 1024, `at most 16 MiB kept (${reads.size.bytes})`);
    assert.ok(reads.size.answers < 100);
    await read(99, 1);
    assert.equal(calls, 100, 'the newest answers are still shared');
  });

  it('does not keep a failed read', async () => {
    let fail = true;
    const reads = new SharedLogReads(async (_a, after) => {
      if (fail) throw new Error('database gone');
      return page(after, 1);
    }, () => 0);
    const read = reads.reader('app_1', { eventTypes: null, channels: null });
    await assert.rejects(read(0, 10), /database gone/);
    fail = false;
    assert.equal((await read(0, 10)).messages.length, 1);
  });

  it('keys equal filters alike, whatever the order of their lists', () => {
    assert.equal(filterKey({ eventTypes: ['b', 'a'], channels: null }), filterKey({ eventTypes: ['a', 'b'], channels: null }));
    assert.notEqual(filterKey({ eventTypes: ['a'], channels: null }), filterKey({ eventTypes: null, channels: ['a'] }));
    assert.notEqual(filterKey({ eventTypes: [], channels: null }), filterKey({ eventTypes: null, channels: null }), 'an empty list matches nothing, no list everything');
  });

  it('encodes a page once and slices its frames to fit a budget, at least one frame at a time', () => {
    const r = page(0, 5);
    const p = encodedPage(r);
    assert.equal(encodedPage(r), p, 'encoded once');
    assert.deepEqual(p.seqs, [1, 2, 3, 4, 5]);
    const text = p.bytes.toString('utf8');
    assert.equal(text.split('\n\n').filter((f) => f.startsWith('id: ')).length, 5);
    const one = p.ends[0]!;
    assert.equal(framesWithin(p, 0, 0), 1, 'no room still sends one frame');
    assert.equal(framesWithin(p, 0, one * 2), 2);
    assert.equal(framesWithin(p, 3, 1_000_000), 2, 'up to the end of the page');
    assert.equal(framesWithin(p, 0, -5), 1);
  });
});
