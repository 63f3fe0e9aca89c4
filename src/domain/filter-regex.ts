/**
 * Safe regular expressions for filters. A `$regex` is accepted only when `recheck` (a ReDoS
 * checker built on automata theory, with fuzzing where automata do not apply) shows its
 * matching time is linear or better; exponential and polynomial patterns are refused with
 * the attack string it found. The check runs once, when a filter is saved, on recheck's
 * worker thread, so saving a filter never blocks the event loop; evaluation then uses the
 * ordinary RegExp engine.
 */
import { AppError } from './errors.js';
import { parseFilter } from './filter.js';
import type { CompiledFilter, FilterRegex } from './filter.js';

/** A verdict: null when safe, else why the pattern is refused. */
type Verdict = string | null;

/** How long one pattern may be analysed before it is refused as unproven. */
const CHECK_TIMEOUT_MS = 5000;
const verdicts = new Map<string, Verdict>();
const MAX_VERDICTS = 1000;

type Recheck = typeof import('recheck');
let loaded: Promise<Recheck> | null = null;

function recheck(): Promise<Recheck> {
  // The pure-JavaScript checker on a worker thread: no JVM or external binary is started.
  // An operator's own RECHECK_BACKEND setting is respected.
  process.env.RECHECK_BACKEND ??= 'worker';
  loaded ??= import('recheck').then((m) => (m as { default?: Recheck }).default ?? m);
  return loaded;
}

/** Checks one pattern; verdicts are remembered, so saving the same filter again is instant. */
export async function regexVerdict(source: string, flags: string): Promise<Verdict> {
  const key = `${flags}/${source}`;
  const known = verdicts.get(key);
  if (known !== undefined) return known;
  const { check } = await recheck();
  let verdict: Verdict;
  try {
    const d = await check(source, flags, { timeout: CHECK_TIMEOUT_MS, randomSeed: 1 });
    if (d.status === 'safe') verdict = null;
    else if (d.status === 'vulnerable') {
      const attack = d.attack.string.length > 40 ? d.attack.string.slice(0, 40) + '...' : d.attack.string;
      verdict = `regular expression can take ${d.complexity.type} time (ReDoS), e.g. on ${JSON.stringify(attack)}; rewrite it without nested or overlapping repetition`;
    } else verdict = `regular expression could not be shown to be safe (${d.error.kind}); simplify it`;
  } catch (e: unknown) {
    verdict = `regular expression could not be checked: ${(e as Error).message}`;
  }
  if (verdicts.size >= MAX_VERDICTS) verdicts.delete(verdicts.keys().next().value!);
  verdicts.set(key, verdict);
  return verdict;
}

/** Refuses the first unsafe regular expression of a parsed filter with a 422 at its location. */
export async function assertSafeRegexes(regexes: readonly FilterRegex[]): Promise<void> {
  for (const r of regexes) {
    const why = await regexVerdict(r.source, r.flags);
    if (why) throw new AppError('validation', why, [{ loc: r.loc, msg: why, type: 'value_error.filter.regex' }]);
  }
}

/** Validates a filter for saving: its structure, then the safety of its regular expressions. */
export async function validateFilter(doc: unknown, loc: (string | number)[] = ['body', 'filter']): Promise<CompiledFilter> {
  const f = parseFilter(doc, loc);
  await assertSafeRegexes(f.regexes);
  return f;
}
