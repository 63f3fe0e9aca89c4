/** Turns of the event loop: `turns(n)` resolves after `n` rounds of immediates (what was queued for the next turn has run). */
export async function turns(n = 1): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}
