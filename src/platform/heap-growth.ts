/**
 * How far V8 lets a heap grow past what survived its last full collection before it collects
 * again. Left to itself, V8 grows a heap whose limit is the default (~4 GB) by up to four
 * times what is alive: a server with ~25 MB alive on its main thread held ~125 MB before each
 * mark-compact while draining a backlog. A smaller factor collects sooner, concurrently with
 * the main thread, for the same work (docs/performance.md, "Memory in backlog").
 *
 * `--heap-growing-percent` is read each time V8 sets a heap's next limit (after every full
 * collection), so unlike the heap-size flags it takes effect when set at run time. V8 flags
 * are per process: send workers started afterwards use it too.
 */
import { setFlagsFromString } from 'node:v8';

/** The V8 flag set, without its value. */
export const HEAP_GROWTH_FLAG = '--heap-growing-percent';

/** Sets the growth factor to 1 + `percent` / 100; 0 leaves V8's own heuristics. */
export function limitHeapGrowth(percent: number, setFlags: (flags: string) => void = setFlagsFromString): void {
  if (percent > 0) setFlags(`${HEAP_GROWTH_FLAG}=${Math.round(percent)}`);
}
