/** Reading settings out of the environment, shared by `config.ts` and `config-security.ts`. */

/** The process environment, or the settings a test passes instead. */
export type Env = Record<string, string | undefined>;

/** An integer setting of at least `min`; `def` when unset or empty. */
export function int(env: Env, name: string, def: number, min: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer >= ${min}, got "${raw}"`);
  return n;
}
