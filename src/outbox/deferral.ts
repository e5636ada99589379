/**
 * A task that could not run yet, through no fault of its own (its installation's next GitHub write
 * slot is later): an error carrying `deferMs`. The runner reschedules such a task that much later
 * without counting an attempt, backing off, or bringing it closer to being given up; the whole lane
 * waits with it. `WriteSlotUnavailable` (src/github/pace-writes.ts) is one. Duck-typed so the GitHub
 * side needs nothing of the outbox.
 */
export function deferralOf(error: unknown): number | null {
  if (!(error instanceof Error) || !("deferMs" in error)) return null;
  const { deferMs } = error as { deferMs: unknown };
  return typeof deferMs === "number" && Number.isFinite(deferMs) && deferMs >= 0 ? deferMs : null;
}
