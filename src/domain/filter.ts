/**
 * Content filters: a declarative JSON language that decides, per endpoint, whether a message
 * is delivered, from its payload, the headers it was received with (ingest), its event type
 * and channels.
 *
 * A filter is an object whose keys are dotted paths (`payload.order.total`,
 * `headers.x-github-event`) or the logical operators `$and`, `$or`, `$not`; every key must
 * hold. A path's condition is a value (equality) or an object of operators: `$eq`, `$ne`,
 * `$gt`, `$gte`, `$lt`, `$lte`, `$in`, `$nin`, `$exists`, `$regex` (+ `$options`), `$not`,
 * `$size`, `$elemMatch`. As in MongoDB, a path that crosses an array looks into each element,
 * and a condition on an array holds when it holds for the array or for any element.
 *
 * Pure: parsing validates and compiles to closures once; evaluation allocates little.
 */
import { AppError } from './errors.js';
import type { ValidationIssue } from './errors.js';

/** A filter as saved: the JSON document the user sent. */
export type FilterDoc = Record<string, unknown>;

/** What a filter looks at. Header names are lower case. */
export interface FilterSubject {
  payload: unknown;
  headers: Record<string, string>;
  eventType: string;
  channels: readonly string[] | null;
}

/** A regular expression found in a filter, for the safety check done when it is saved. */
export interface FilterRegex {
  source: string;
  flags: string;
  loc: (string | number)[];
}

export interface CompiledFilter {
  test(subject: FilterSubject): boolean;
  readonly regexes: readonly FilterRegex[];
}

/** Limits that keep a filter cheap to evaluate on the publish path. */
export const FILTER_LIMITS = {
  bytes: 16 * 1024,
  depth: 12,
  nodes: 500,
  inItems: 500,
  regexLength: 512,
  regexes: 20,
} as const;

/** The roots a path may start with. */
const ROOTS = new Set(['payload', 'headers', 'eventType', 'channels']);
const REGEX_FLAGS = /^[imsu]*$/;

type Loc = (string | number)[];
type Matcher = (root: unknown) => boolean;
/** A condition over the values a path resolved to (empty: the path is missing). */
type Cond = (values: unknown[]) => boolean;

class FilterError extends Error {
  constructor(
    readonly loc: Loc,
    msg: string,
  ) {
    super(msg);
  }
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Deep equality of JSON values. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) {
    if (!Object.hasOwn(b, k) || !jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  }
  return true;
}

/** Splits a dotted path; `\.` is a literal dot inside a segment (header names may hold dots). */
export function splitPath(path: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < path.length; i++) {
    const ch = path[i]!;
    if (ch === '\\' && path[i + 1] === '.') {
      cur += '.';
      i++;
    } else if (ch === '.') {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

/**
 * Collects the values at `segs` from `v`. Crossing an array without a numeric segment looks
 * into each element (one level, as MongoDB does); a numeric segment also indexes the array.
 */
function resolve(v: unknown, segs: readonly string[], i: number, out: unknown[]): void {
  if (v === undefined) return;
  if (i === segs.length) {
    out.push(v);
    return;
  }
  const seg = segs[i]!;
  if (Array.isArray(v)) {
    const idx = /^\d+$/.test(seg) ? Number(seg) : -1;
    if (idx >= 0 && idx < v.length) resolve(v[idx], segs, i + 1, out);
    for (const el of v) if (isPlainObject(el)) resolve(el, segs, i, out);
    return;
  }
  if (isPlainObject(v) && Object.hasOwn(v, seg)) resolve(v[seg], segs, i + 1, out);
}

/** A condition that holds when `test` holds for a value or, for an array, for any element. */
const anyValue =
  (test: (v: unknown) => boolean): Cond =>
  (values) => {
    for (const v of values) {
      if (test(v)) return true;
      if (Array.isArray(v)) for (const e of v) if (test(e)) return true;
    }
    return false;
  };

function compare(op: string, a: unknown, b: number | string): boolean {
  if (typeof a !== typeof b) return false;
  const x = a as number | string;
  switch (op) {
    case '$gt':
      return x > b;
    case '$gte':
      return x >= b;
    case '$lt':
      return x < b;
    default:
      return x <= b;
  }
}

class Parser {
  nodes = 0;
  readonly regexes: FilterRegex[] = [];

  constructor(private readonly base: Loc) {}

  private fail(loc: Loc, msg: string): never {
    throw new FilterError([...this.base, ...loc], msg);
  }

  private count(loc: Loc, depth: number): void {
    if (++this.nodes > FILTER_LIMITS.nodes) this.fail(loc, `filter has more than ${FILTER_LIMITS.nodes} conditions`);
    if (depth > FILTER_LIMITS.depth) this.fail(loc, `filter is nested deeper than ${FILTER_LIMITS.depth} levels`);
  }

  /** A filter object: every key must hold. `rooted`: paths start at the subject's roots. */
  query(q: unknown, loc: Loc, depth: number, rooted: boolean): Matcher {
    if (!isPlainObject(q)) this.fail(loc, 'a filter must be a JSON object');
    this.count(loc, depth);
    const parts: Matcher[] = [];
    for (const [key, val] of Object.entries(q)) {
      const at = [...loc, key];
      if (key === '$and' || key === '$or') {
        if (!Array.isArray(val) || val.length === 0) this.fail(at, `${key} takes a non-empty array of filters`);
        const subs = val.map((s, i) => this.query(s, [...at, i], depth + 1, rooted));
        parts.push(key === '$and' ? (r) => subs.every((m) => m(r)) : (r) => subs.some((m) => m(r)));
      } else if (key === '$not') {
        const sub = this.query(val, at, depth + 1, rooted);
        parts.push((r) => !sub(r));
      } else if (key.startsWith('$')) {
        this.fail(at, `unknown operator ${key} (expected a path, $and, $or or $not)`);
      } else {
        const segs = splitPath(key);
        if (segs.some((s) => s === '')) this.fail(at, `path "${key}" has an empty segment`);
        if (rooted && !ROOTS.has(segs[0]!)) this.fail(at, `path "${key}" must start with payload, headers, eventType or channels`);
        // Header names are case-insensitive: they are matched in lower case.
        if (rooted && segs[0] === 'headers' && segs[1] !== undefined) segs[1] = segs[1].toLowerCase();
        const cond = this.condition(val, at, depth + 1);
        parts.push((r) => {
          const values: unknown[] = [];
          resolve(r, segs, 0, values);
          return cond(values);
        });
      }
    }
    if (parts.length === 1) return parts[0]!;
    return (r) => parts.every((m) => m(r));
  }

  /** A path's condition: a literal (equality) or an object of operators. */
  condition(c: unknown, loc: Loc, depth: number): Cond {
    this.count(loc, depth);
    if (!isPlainObject(c)) return this.equals(c, loc);
    const keys = Object.keys(c);
    const ops = keys.filter((k) => k.startsWith('$'));
    if (ops.length === 0) return this.equals(c, loc);
    if (ops.length !== keys.length) this.fail(loc, 'an operator object cannot mix operators and plain keys');
    const parts: Cond[] = [];
    for (const op of keys) {
      const v = c[op];
      const at = [...loc, op];
      switch (op) {
        case '$eq':
          parts.push(this.equals(v, at));
          break;
        case '$ne': {
          const eq = this.equals(v, at);
          parts.push((vals) => !eq(vals));
          break;
        }
        case '$gt':
        case '$gte':
        case '$lt':
        case '$lte': {
          if (typeof v !== 'number' && typeof v !== 'string') this.fail(at, `${op} takes a number or a string`);
          const b = v;
          parts.push(anyValue((x) => compare(op, x, b)));
          break;
        }
        case '$in':
        case '$nin': {
          if (!Array.isArray(v)) this.fail(at, `${op} takes an array`);
          if (v.length > FILTER_LIMITS.inItems) this.fail(at, `${op} takes at most ${FILTER_LIMITS.inItems} values`);
          const eqs = v.map((x, i) => this.equals(x, [...at, i]));
          const any: Cond = (vals) => eqs.some((eq) => eq(vals));
          parts.push(op === '$in' ? any : (vals) => !any(vals));
          break;
        }
        case '$exists': {
          if (typeof v !== 'boolean') this.fail(at, '$exists takes true or false');
          parts.push((vals) => vals.length > 0 === v);
          break;
        }
        case '$regex':
          parts.push(this.regex(v, c.$options, at));
          break;
        case '$options':
          if (!('$regex' in c)) this.fail(at, '$options needs $regex');
          break;
        case '$not': {
          if (!isPlainObject(v) || !Object.keys(v).every((k) => k.startsWith('$')) || Object.keys(v).length === 0) {
            this.fail(at, '$not takes an object of operators, e.g. {"$not": {"$gt": 5}}');
          }
          const inner = this.condition(v, at, depth + 1);
          parts.push((vals) => !inner(vals));
          break;
        }
        case '$size': {
          if (!Number.isInteger(v) || (v as number) < 0) this.fail(at, '$size takes a non-negative integer');
          parts.push((vals) => vals.some((x) => Array.isArray(x) && x.length === v));
          break;
        }
        case '$elemMatch': {
          if (!isPlainObject(v) || Object.keys(v).length === 0) this.fail(at, '$elemMatch takes a non-empty object');
          // Operators apply to the element itself; paths apply inside object elements.
          const allOps = Object.keys(v).every((k) => k.startsWith('$') && k !== '$and' && k !== '$or' && k !== '$not');
          let el: (e: unknown) => boolean;
          if (allOps) {
            const cond = this.condition(v, at, depth + 1);
            el = (e) => cond([e]);
          } else {
            const q = this.query(v, at, depth + 1, false);
            el = (e) => isPlainObject(e) && q(e);
          }
          parts.push((vals) => vals.some((x) => Array.isArray(x) && x.some(el)));
          break;
        }
        default:
          this.fail(at, `unknown operator ${op}`);
      }
    }
    if (parts.length === 1) return parts[0]!;
    return (vals) => parts.every((p) => p(vals));
  }

  /** Equality; `null` also matches a missing path, as in MongoDB. */
  equals(v: unknown, loc: Loc): Cond {
    if (v === undefined) this.fail(loc, 'a value is required');
    if (v === null) {
      const isNull = anyValue((x) => x === null);
      return (vals) => vals.length === 0 || isNull(vals);
    }
    if (typeof v !== 'object') return anyValue((x) => x === v);
    return anyValue((x) => jsonEqual(x, v));
  }

  regex(source: unknown, options: unknown, loc: Loc): Cond {
    if (typeof source !== 'string') this.fail(loc, '$regex takes a string');
    if (source.length > FILTER_LIMITS.regexLength) this.fail(loc, `$regex is longer than ${FILTER_LIMITS.regexLength} characters`);
    const flags = options === undefined ? '' : options;
    if (typeof flags !== 'string' || !REGEX_FLAGS.test(flags)) this.fail([...loc.slice(0, -1), '$options'], '$options may hold only the flags i, m, s and u');
    if (this.regexes.length >= FILTER_LIMITS.regexes) this.fail(loc, `a filter may hold at most ${FILTER_LIMITS.regexes} regular expressions`);
    let re: RegExp;
    try {
      re = new RegExp(source, flags);
    } catch (e: unknown) {
      this.fail(loc, `invalid regular expression: ${(e as Error).message}`);
    }
    this.regexes.push({ source, flags, loc: [...this.base, ...loc] });
    // No g or y flag: test() keeps no state between calls.
    return anyValue((x) => typeof x === 'string' && re.test(x));
  }
}

/**
 * Parses and compiles a filter; a problem is a 422 whose issue points at it (`loc` is
 * where the filter sits in the request). Regular expressions are only compiled here: their
 * safety check is asynchronous (see filter-regex.ts) and done before a filter is saved.
 */
export function parseFilter(doc: unknown, loc: Loc = ['body', 'filter']): CompiledFilter {
  const issue = (l: Loc, msg: string): AppError => new AppError('validation', msg, [{ loc: l, msg, type: 'value_error.filter' } satisfies ValidationIssue]);
  let size: number;
  try {
    size = JSON.stringify(doc)?.length ?? 0;
  } catch {
    throw issue(loc, 'filter is not JSON');
  }
  if (size > FILTER_LIMITS.bytes) throw issue(loc, `filter is larger than ${FILTER_LIMITS.bytes} bytes`);
  const p = new Parser(loc);
  let m: Matcher;
  try {
    m = p.query(doc, [], 0, true);
  } catch (e: unknown) {
    if (e instanceof FilterError) throw issue(e.loc, e.message);
    throw e;
  }
  return { test: (s) => m(s), regexes: p.regexes };
}

/** Compiled filters by the saved document (endpoints are cached, so each is compiled once). */
const compiled = new WeakMap<object, CompiledFilter>();

/** The compiled form of a saved filter. */
export function compiledFilter(doc: FilterDoc): CompiledFilter {
  let c = compiled.get(doc);
  if (!c) {
    c = parseFilter(doc);
    compiled.set(doc, c);
  }
  return c;
}

/** Whether a saved filter lets a message through. */
export function filterMatches(doc: FilterDoc, subject: FilterSubject): boolean {
  return compiledFilter(doc).test(subject);
}

/**
 * Keeps the endpoints whose filter (if any) lets the message through. `subject` is built
 * only if some endpoint has a filter, so the payload is parsed only then; with no filter the
 * same array comes back.
 */
export function applyFilters<E extends { filter?: FilterDoc | null }>(endpoints: E[], subject: () => FilterSubject): E[] {
  let s: FilterSubject | undefined;
  let out: E[] | undefined;
  for (let i = 0; i < endpoints.length; i++) {
    const ep = endpoints[i]!;
    let ok = true;
    if (ep.filter) {
      s ??= subject();
      ok = filterMatches(ep.filter, s);
    }
    if (!ok) out ??= endpoints.slice(0, i);
    else out?.push(ep);
  }
  return out ?? endpoints;
}

/** Builds a filter subject from a message's stored fields; header names are lower-cased. */
export function filterSubject(payloadText: string | null, eventType: string, channels: readonly string[] | null, headers?: Record<string, string>): FilterSubject {
  let payload: unknown = undefined;
  if (payloadText !== null) {
    try {
      payload = JSON.parse(payloadText);
    } catch {
      payload = undefined;
    }
  }
  // No prototype: a header named __proto__ is just a header.
  const h = Object.create(null) as Record<string, string>;
  if (headers) for (const [k, v] of Object.entries(headers)) h[k.toLowerCase()] = v;
  return { payload, headers: h, eventType, channels };
}
