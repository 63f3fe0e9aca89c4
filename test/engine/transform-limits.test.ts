/**
 * A transformation's time limit charges the code, not the machine: a run is stopped once its
 * thread has used the limit in CPU time (or after ten times the limit in wall time, however
 * starved), and the pool's watchdog reads an answer that arrived while the main thread was
 * busy before it declares an overrun.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { RunBudget, ThreadClock, WALL_FACTOR } from '../../src/engine/transformations/run-clock.js';
import type { RunClock } from '../../src/engine/transformations/run-clock.js';
import { TransformSandbox } from '../../src/engine/transformations/sandbox.js';
import { SandboxPool } from '../../src/engine/transformations/pool.js';

/** A clock whose wall time moves `step` ms per reading and whose CPU time moves `share` of it. */
function starvedClock(share: number | null, step = 1): RunClock & { wall: number } {
  const c = {
    wall: 0,
    wallMs() {
      c.wall += step;
      return c.wall;
    },
    cpuMs() {
      return share === null ? null : c.wall * share;
    },
  };
  return c;
}

function spendUntilOver(budget: RunBudget, clock: { wall: number }, maxWall = 100_000): number {
  while (!budget.spent()) if (clock.wall > maxWall) throw new Error('the budget never ran out');
  return clock.wall;
}

const limits = { timeoutMs: 50, memoryBytes: 32 * 1024 * 1024, cacheSize: 10 };
const ENDLESS = 'function handler(w) { for (;;) {} }';
const input = JSON.stringify({ method: 'POST', url: 'http://localhost/', eventType: 'a', cancel: false, payload: {} });

function busyWait(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    /* the main thread is busy */
  }
}

describe('transformation time limits', () => {
  it('charges CPU time: a thread with a quarter of a core gets four times the limit in wall time', () => {
    const clock = starvedClock(0.25);
    const over = spendUntilOver(new RunBudget(clock, 50), clock);
    assert.ok(over >= 200 && over <= 202, `ran out at wall ${over}`);
  });

  it('a thread with the whole core is stopped at the limit', () => {
    const clock = starvedClock(1);
    assert.equal(spendUntilOver(new RunBudget(clock, 50), clock), 52);
  });

  it('however starved, a run ends after WALL_FACTOR times the limit', () => {
    const clock = starvedClock(0);
    assert.equal(spendUntilOver(new RunBudget(clock, 50), clock), 50 * WALL_FACTOR + 2);
  });

  it('without a CPU clock the limit is wall time', () => {
    const clock = starvedClock(null);
    assert.equal(spendUntilOver(new RunBudget(clock, 50), clock), 52);
  });

  it('stays spent once spent', () => {
    const clock = starvedClock(1);
    const b = new RunBudget(clock, 5);
    spendUntilOver(b, clock);
    assert.equal(b.exhausted, true);
    assert.equal(b.spent(), true);
  });

  it('reads this thread\'s CPU time, which moves with work and not with sleep', async () => {
    const clock = new ThreadClock();
    try {
      const a = clock.cpuMs();
      if (a === null) return; // not Linux: wall time is the limit, covered above
      await new Promise((r) => setTimeout(r, 60));
      const b = clock.cpuMs()!;
      assert.ok(b - a < 30, `sleeping 60 ms used ${b - a} ms of CPU`);
      // Work, against the process's CPU time: this thread's, plus whatever the process's other
      // threads did meanwhile (GC helpers, and in the suite the threads of other test files that
      // share the process), so the process's figure bounds the thread's only from above.
      const p0 = process.cpuUsage();
      let x = 0;
      for (let i = 0; i < 30_000_000; i++) x += i % 7;
      const worked = clock.cpuMs()! - b;
      const p = process.cpuUsage(p0);
      const processMs = (p.user + p.system) / 1000;
      assert.ok(x > 0 && worked > 5, `working used only ${worked} ms of CPU`);
      assert.ok(worked <= processMs + 2, `thread ${worked} ms, process ${processMs} ms`);
      // Another thread's work, while this one waits for it: the process's clock moves, this thread's hardly.
      const c = clock.cpuMs()!;
      const q0 = process.cpuUsage();
      await new Promise<void>((resolve, reject) => {
        const other = new Worker('let x = 0; for (let i = 0; i < 30_000_000; i++) x += i % 7; require("node:worker_threads").parentPort.postMessage(x);', { eval: true });
        other.once('message', () => resolve());
        other.once('error', reject);
      });
      const waited = clock.cpuMs()! - c;
      const q = process.cpuUsage(q0);
      const otherMs = (q.user + q.system) / 1000 - waited;
      assert.ok(waited < 30, `waiting for another thread used ${waited} ms of this thread's CPU`);
      assert.ok(otherMs > worked / 2, `the other thread's work (${otherMs} ms of the process's CPU) went uncounted, or onto this thread's clock (${waited} ms)`);
    } finally {
      clock.close();
    }
  });

  it('an endless loop in the sandbox ends with the time-limit error, on a starved thread too', async () => {
    for (const share of [1, 0.1, 0]) {
      const clock = starvedClock(share);
      const sandbox = new TransformSandbox(limits, clock);
      await sandbox.ready();
      const r = sandbox.runOnce(ENDLESS, '{}', input);
      assert.deepEqual(r, { kind: 'error', reason: 'transformation exceeded its time limit of 50 ms', fatal: 'time' });
      // Stopped by the budget: with CPU, at the limit; with none, at the wall bound.
      const limitWall = share === 0 ? 50 * WALL_FACTOR : 50 / share;
      assert.ok(clock.wall >= limitWall && clock.wall < limitWall + 5, `share ${share}: stopped at wall ${clock.wall}`);
    }
  });

  it('the watchdog takes an answer that came while the main thread was busy, and restarts nothing', async () => {
    const pool = new SandboxPool({ ...limits, timeoutMs: 10 }, 20);
    try {
      assert.equal(await pool.request({ op: 'check', code: 'function handler(w) { return w }' }), null);
      const answer = pool.request({ op: 'check', code: 'function handler(w) { w.method = "PUT"; return w }' });
      // Longer than the watchdog (10 ms × WALL_FACTOR + 20 ms): its timer and the answer are both due.
      busyWait(10 * WALL_FACTOR + 20 + 200);
      assert.equal(await answer, null);
      assert.equal(pool.restarts, 0);
    } finally {
      await pool.close();
    }
  });
});
