/** `github-failing`: every GitHub call has failed for longer than this (SPEC §6). */
export const GITHUB_FAILING_AFTER_MS = 60_000;
/** `outbox-stalled`: due outbox work has waited longer than this (SPEC §6). */
export const OUTBOX_STALLED_AFTER_SECONDS = 300;

export type DegradedReason = "github-failing" | "outbox-stalled";

export interface HealthFacts {
  storeOk: boolean;
  configLoaded: boolean;
  /** ISO-8601, null while GitHub calls succeed */
  failingSince: string | null;
  /** null when the store could not be read */
  oldestDueSeconds: number | null;
  now: number;
}

/**
 * SPEC §6 readiness: `ok` (answer 200) while work can be accepted — the store answers and a config is
 * loaded — and, separately, what is wrong while it still is. Pure.
 */
export function decideHealth(facts: HealthFacts): { ok: boolean; degraded: DegradedReason[] } {
  const degraded: DegradedReason[] = [];
  if (facts.failingSince !== null && facts.now - Date.parse(facts.failingSince) > GITHUB_FAILING_AFTER_MS)
    degraded.push("github-failing");
  if (facts.oldestDueSeconds !== null && facts.oldestDueSeconds > OUTBOX_STALLED_AFTER_SECONDS)
    degraded.push("outbox-stalled");
  return { ok: facts.storeOk && facts.configLoaded, degraded };
}
