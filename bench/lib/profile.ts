/** Self-time summary of a V8 `.cpuprofile` (as written by `node --cpu-prof`). */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: CpuProfileNode[];
  samples?: number[];
  timeDeltas?: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileEntry {
  function: string;
  location: string;
  selfMs: number;
  /** Share of non-idle samples. */
  pct: number;
  /** For the top functions: which callers that self time came through (share of non-idle samples). */
  callers?: { caller: string; pct: number }[];
}

export interface ProfileSummary {
  file: string;
  /** Samples from the first this-many ms (start-up: module loading, schema compilation) are left out. */
  skippedMs: number;
  totalMs: number;
  idleMs: number;
  /** Top functions by self time. */
  functions: ProfileEntry[];
  /** Self time grouped by source (node internals, each package, each project file). */
  sources: ProfileEntry[];
}

function sourceOf(url: string, root: string): string {
  if (!url) return '(native/V8)';
  if (url.startsWith('node:')) return url.replace(/^node:internal\/.*$/, 'node:internal');
  const path = url.replace(/^file:\/\//, '');
  const nm = path.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = path.slice(nm + '/node_modules/'.length).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1] ?? ''}` : (rest[0] ?? path);
  }
  return relative(root, path);
}

export function summarizeProfile(file: string, root: string, top = 20, skipMs = 0): ProfileSummary {
  const prof = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map<number, CpuProfileNode>();
  const parent = new Map<number, number>();
  for (const n of prof.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const selfUs = new Map<number, number>();
  const samples = prof.samples ?? [];
  const deltas = prof.timeDeltas ?? [];
  let elapsedUs = 0;
  for (let i = 0; i < samples.length; i++) {
    const id = samples[i];
    // timeDeltas[i] is the time since the previous sample; attribute it to this one.
    const d = deltas[i] ?? 0;
    elapsedUs += d;
    if (elapsedUs < skipMs * 1000) continue;
    if (id !== undefined) selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(0, d));
  }
  const fn = new Map<string, { function: string; location: string; us: number; callers: Map<string, number> }>();
  const src = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    total += us;
    const name = node.callFrame.functionName || '(anonymous)';
    if (name === '(idle)') {
      idle += us;
      continue;
    }
    const source = sourceOf(node.callFrame.url, root);
    const location = node.callFrame.url ? `${source}:${node.callFrame.lineNumber + 1}` : source;
    const key = `${name}@${location}`;
    const e = fn.get(key) ?? { function: name, location, us: 0, callers: new Map<string, number>() };
    e.us += us;
    const p = byId.get(parent.get(id) ?? -1);
    const callerName = p ? `${p.callFrame.functionName || '(anonymous)'}${p.callFrame.url ? ` ${sourceOf(p.callFrame.url, root)}:${p.callFrame.lineNumber + 1}` : ''}` : '(root)';
    e.callers.set(callerName, (e.callers.get(callerName) ?? 0) + us);
    fn.set(key, e);
    src.set(source, (src.get(source) ?? 0) + us);
  }
  const busy = Math.max(1, total - idle);
  const entry = (f: string, loc: string, us: number): ProfileEntry => ({
    function: f,
    location: loc,
    selfMs: Math.round(us / 100) / 10,
    pct: Math.round((us / busy) * 1000) / 10,
  });
  return {
    file,
    skippedMs: skipMs,
    totalMs: Math.round(total / 1000),
    idleMs: Math.round(idle / 1000),
    functions: [...fn.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((e, i) => {
        const out = entry(e.function, e.location, e.us);
        if (i < 5) {
          out.callers = [...e.callers.entries()]
            .sort((a, b) => b[1] - a[1])
            .slice(0, 5)
            .map(([caller, us]) => ({ caller, pct: Math.round((us / busy) * 1000) / 10 }));
        }
        return out;
      }),
    sources: [...src.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([s, us]) => entry(s, '', us)),
  };
}
