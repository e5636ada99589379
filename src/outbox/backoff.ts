/**
 * When to try a failed task again: exponential from 2 s, capped at 5 minutes, with jitter so a
 * fleet of processes that failed together does not retry together; never sooner than the server
 * asked (`retry-after`). Pure, given `random`.
 */
export function retryDelayMs(attempt: number, retryAfterMs: number | null, random: () => number = Math.random): number {
  const base = Math.min(300_000, 2_000 * 2 ** Math.max(0, attempt - 1));
  const jittered = base / 2 + random() * (base / 2);
  return Math.max(jittered, retryAfterMs ?? 0);
}
