/**
 * When a handler stops taking outbox work: after `budgetMs`, and before half of the invocation's
 * remaining time is gone, because the deadline is checked between batches and the last batch may
 * overrun it. What is left is picked up by the scheduled function. Pure.
 */
export function drainDeadline(now: number, budgetMs: number, remainingMs = Number.POSITIVE_INFINITY): number {
  return now + Math.max(0, Math.min(budgetMs, remainingMs / 2));
}
