/**
 * The sandbox transformations run in: QuickJS compiled to WebAssembly (quickjs-emscripten).
 * The code sees plain JavaScript and nothing of the host: no require, process, timers,
 * network or file system. Each compiled transformation gets its own QuickJS runtime with
 * a memory limit and a stack limit; every run has a time budget (run-clock.ts) enforced by QuickJS's
 * interrupt handler, which also stops runaway regular expressions.
 *
 * Runs are synchronous; this class lives on the sandbox's worker thread (transform-worker.ts),
 * never on the main event loop. Compiled transformations are cached per key (an endpoint), so
 * the hot path is one call into an already-evaluated function.
 */
import type { QuickJSContext, QuickJSHandle, QuickJSRuntime, QuickJSSyncVariant, QuickJSWASMModule } from 'quickjs-emscripten-core';
import { RunBudget, ThreadClock } from './run-clock.js';
import type { RunClock } from './run-clock.js';

export interface SandboxLimits {
  /** Time limit of one run (compilation included), in ms of the thread's CPU time (run-clock.ts). */
  timeoutMs: number;
  /** Heap of one runtime, in bytes. */
  memoryBytes: number;
  /** Compiled transformations kept. */
  cacheSize: number;
}

/** What a run returns: the webhook's fields (JSON text) and the payload's JSON text ('' when it has none). */
export type RunResult =
  | { kind: 'ok'; meta: string; payload: string }
  | { kind: 'error'; reason: string; fatal: 'time' | 'memory' | null };

/** The code's own stack; small enough that QuickJS stops a deep recursion before the host's stack runs out. */
const STACK_BYTES = 128 * 1024;

/**
 * Evaluated before the user's code, so the JSON functions it holds cannot be replaced by
 * it. The run returns the webhook fields and the payload's JSON as one string.
 */
const RUNNER = `(() => {
  const parse = JSON.parse, stringify = JSON.stringify, isArray = Array.isArray;
  return function run(handler, input, vars) {
    const out = handler(parse(input), vars);
    if (out === null || typeof out !== 'object' || isArray(out)) {
      return stringify({ invalid: out === null ? 'null' : isArray(out) ? 'an array' : typeof out }) + '\\n';
    }
    const payload = out.payload === undefined ? undefined : stringify(out.payload);
    const meta = stringify({ cancel: out.cancel, method: out.method, url: out.url, eventType: out.eventType, headers: out.headers, hasPayload: payload !== undefined });
    return meta + '\\n' + (payload === undefined ? '' : payload);
  };
})()`;

interface Compiled {
  code: string;
  vars: string;
  rt: QuickJSRuntime;
  ctx: QuickJSContext;
  runner: QuickJSHandle;
  handler: QuickJSHandle;
  varsHandle: QuickJSHandle;
  budget: RunBudget;
}

/** A problem in the code itself (syntax, no handler): reported when the code is saved. */
export class CompileError extends Error {}

/** A host-side failure inside WebAssembly (e.g. the host stack ran out): the module is discarded. */
class ModuleFault extends Error {}

export class TransformSandbox {
  private module: QuickJSWASMModule | null = null;
  private loading: Promise<QuickJSWASMModule> | null = null;
  private readonly cache = new Map<string, Compiled>();
  /** Compilations done (for tests and metrics: a cached transformation is compiled once). */
  compilations = 0;

  constructor(
    readonly limits: SandboxLimits,
    private readonly clock: RunClock = new ThreadClock(),
  ) {}

  /** Loads the WebAssembly module (once; again after a fault). */
  async ready(): Promise<void> {
    if (this.module) return;
    // The engine's code is loaded with its first transformation: a server without any never pays for it.
    this.loading ??= Promise.all([import('quickjs-emscripten-core'), import('@jitl/quickjs-wasmfile-release-sync')]).then(async ([core, release]) => {
      // The package's types describe its CommonJS build; imported as ESM, the default export is the variant.
      const m = await core.newQuickJSWASMModuleFromVariant(release.default as unknown as QuickJSSyncVariant);
      this.module = m;
      this.loading = null;
      return m;
    });
    await this.loading;
  }

  /**
   * Runs cached code for `key` on `input` (the webhook as JSON text). Compiles it first when
   * the key is new or its code or variables changed.
   */
  run(key: string, code: string, vars: string, input: string): RunResult {
    const budget = new RunBudget(this.clock, this.limits.timeoutMs);
    let c = this.cache.get(key);
    try {
      if (c && (c.code !== code || c.vars !== vars)) {
        this.evict(key);
        c = undefined;
      }
      if (!c) {
        c = this.compile(code, vars, budget);
        this.cache.set(key, c);
        while (this.cache.size > this.limits.cacheSize) this.evict(this.cache.keys().next().value!);
      } else {
        // Most recently used last, so eviction takes the least recently used.
        this.cache.delete(key);
        this.cache.set(key, c);
      }
      const r = this.call(c, input, budget);
      // A runtime that ran out of time or memory may hold half-built state: start afresh next time.
      if (r.kind === 'error' && r.fatal) this.evict(key);
      return r;
    } catch (e: unknown) {
      this.evict(key);
      return this.failure(e, budget);
    }
  }

  /** Compiles and runs code once in a fresh runtime that is thrown away (simulate). */
  runOnce(code: string, vars: string, input: string): RunResult {
    const budget = new RunBudget(this.clock, this.limits.timeoutMs);
    let c: Compiled | undefined;
    try {
      c = this.compile(code, vars, budget);
      return this.call(c, input, budget);
    } catch (e: unknown) {
      return this.failure(e, budget);
    } finally {
      if (c) this.dispose(c);
    }
  }

  /** Checks that code compiles and defines `handler`; a message saying why not, or null. */
  check(code: string): string | null {
    const budget = new RunBudget(this.clock, this.limits.timeoutMs);
    let c: Compiled | undefined;
    try {
      c = this.compile(code, '{}', budget);
      return null;
    } catch (e: unknown) {
      const f = this.failure(e, budget);
      if (f.kind === 'ok') return null;
      // Syntax errors and a missing handler read better without the "threw" prefix.
      return e instanceof CompileError && !f.fatal ? e.message : f.reason;
    } finally {
      if (c) this.dispose(c);
    }
  }

  /** Forgets the compiled code of `key`. */
  evict(key: string): void {
    const c = this.cache.get(key);
    if (!c) return;
    this.cache.delete(key);
    this.dispose(c);
  }

  /** Compiled transformations held. */
  get size(): number {
    return this.cache.size;
  }

  private mod(): QuickJSWASMModule {
    if (!this.module) throw new ModuleFault('sandbox not loaded');
    return this.module;
  }

  private compile(code: string, vars: string, budget: RunBudget): Compiled {
    this.compilations++;
    const rt = this.mod().newRuntime();
    rt.setMemoryLimit(this.limits.memoryBytes);
    rt.setMaxStackSize(STACK_BYTES);
    const c = { code, vars, rt, budget } as Compiled;
    rt.setInterruptHandler(() => c.budget.spent());
    let ctx: QuickJSContext | undefined;
    try {
      ctx = rt.newContext();
      c.ctx = ctx;
      c.runner = this.unwrap(ctx, ctx.evalCode(RUNNER, 'runner.js'), 'runner');
      // Variables are read-only, as a global and as the handler's second argument.
      c.varsHandle = this.unwrap(ctx, ctx.evalCode(`Object.freeze(JSON.parse(${JSON.stringify(vars)}))`, 'variables.js'), 'variables');
      ctx.setProp(ctx.global, 'variables', c.varsHandle);
      // Code written for browsers logs; here logging goes nowhere rather than failing the run.
      this.unwrap(ctx, ctx.evalCode('globalThis.console = Object.freeze({ log() {}, info() {}, warn() {}, error() {}, debug() {} })', 'console.js'), 'console').dispose();
      const top = ctx.evalCode(code, 'transformation.js');
      if (top.error) {
        const why = this.describe(ctx, top.error);
        top.error.dispose();
        throw new CompileError(why);
      }
      top.value.dispose();
      // A lexical `const handler = ...` is visible to later global code, but not on globalThis.
      c.handler = this.unwrap(ctx, ctx.evalCode('typeof handler === "function" ? handler : undefined', 'lookup.js'), 'handler');
      if (ctx.typeof(c.handler) !== 'function') throw new CompileError('code must define a function named handler, e.g. function handler(webhook) { return webhook }');
      return c;
    } catch (e: unknown) {
      this.dispose(c);
      throw e;
    }
  }

  private call(c: Compiled, input: string, budget: RunBudget): RunResult {
    c.budget = budget;
    const ctx = c.ctx;
    const arg = ctx.newString(input);
    let r;
    try {
      r = ctx.callFunction(c.runner, ctx.undefined, c.handler, arg, c.varsHandle);
    } finally {
      arg.dispose();
    }
    if (r.error) {
      const why = this.describe(ctx, r.error);
      r.error.dispose();
      return this.classify(why, budget);
    }
    const text = ctx.typeof(r.value) === 'string' ? ctx.getString(r.value) : '';
    r.value.dispose();
    const nl = text.indexOf('\n');
    if (nl < 0) return { kind: 'error', reason: 'transformation returned nothing usable', fatal: null };
    return { kind: 'ok', meta: text.slice(0, nl), payload: text.slice(nl + 1) };
  }

  /** Turns an error out of QuickJS into a reason, recognising the time and memory limits. */
  private classify(why: string, budget: RunBudget): RunResult {
    if (/\binterrupted\b/.test(why) && budget.exhausted) {
      return { kind: 'error', reason: `transformation exceeded its time limit of ${this.limits.timeoutMs} ms`, fatal: 'time' };
    }
    if (/out of memory/i.test(why)) {
      return { kind: 'error', reason: `transformation exceeded its memory limit of ${Math.round(this.limits.memoryBytes / 1048576)} MiB`, fatal: 'memory' };
    }
    return { kind: 'error', reason: `transformation threw ${why}`, fatal: null };
  }

  private failure(e: unknown, budget: RunBudget): RunResult {
    if (e instanceof CompileError) return this.classify(e.message, budget);
    if (!(e instanceof ModuleFault)) {
      // Something escaped WebAssembly (host stack exhausted, an abort): the module's memory
      // may be inconsistent, so every runtime in it is dropped and it is loaded again.
      this.cache.clear();
      this.module = null;
      void this.ready().catch(() => {});
    }
    const msg = e instanceof Error ? e.message : String(e);
    return { kind: 'error', reason: `transformation could not run: ${msg}`, fatal: 'memory' };
  }

  private unwrap(ctx: QuickJSContext, r: ReturnType<QuickJSContext['evalCode']>, what: string): QuickJSHandle {
    if (r.error) {
      const why = this.describe(ctx, r.error);
      r.error.dispose();
      throw new CompileError(`${what}: ${why}`);
    }
    return r.value;
  }

  /** A one-line description of a thrown value: `Name: message (line N)`. */
  private describe(ctx: QuickJSContext, err: QuickJSHandle): string {
    let v: unknown;
    try {
      v = ctx.dump(err);
    } catch {
      return 'an error that could not be read (out of memory?)';
    }
    if (v && typeof v === 'object' && 'message' in v) {
      const e = v as { name?: unknown; message?: unknown; stack?: unknown };
      const line = typeof e.stack === 'string' ? /transformation\.js:(\d+)/.exec(e.stack)?.[1] : undefined;
      const name = typeof e.name === 'string' ? e.name : 'Error';
      return `${name}: ${String(e.message)}${line ? ` (line ${line})` : ''}`;
    }
    let s: string;
    try {
      s = JSON.stringify(v) ?? String(v);
    } catch {
      s = String(v);
    }
    return s.length > 500 ? s.slice(0, 500) + '...' : s;
  }

  private dispose(c: Compiled): void {
    // Disposal runs inside WebAssembly too; a failure here only leaks that runtime.
    try {
      for (const h of [c.handler, c.runner, c.varsHandle]) if (h?.alive) h.dispose();
      if (c.ctx?.alive) c.ctx.dispose();
      if (c.rt?.alive) c.rt.dispose();
    } catch {
      /* leaked */
    }
  }
}
