import type { NightlyReport } from "../../records/nightly-reports";

export type NightlyDecision =
  | { outcome: "accepted" }
  /** the same report again (a retried step, a fresh OIDC token): nothing changes */
  | { outcome: "duplicate"; record: NightlyReport }
  /** the same run, attempt and job already reported another conclusion */
  | { outcome: "refused"; reason: "conclusion-conflict"; record: NightlyReport };

/**
 * SPEC §4: a nightly report is written once per (repo, sha, run_id, run_attempt, job_name). As with a
 * dispatch's jobs, a repeat with the same conclusion is a duplicate, and a different conclusion for
 * what was already reported is refused rather than rewriting the HUD row everyone has seen. Pure.
 */
export function decideNightlyReport(existing: NightlyReport | null, conclusion: string): NightlyDecision {
  if (existing === null) return { outcome: "accepted" };
  if (existing.conclusion === conclusion) return { outcome: "duplicate", record: existing };
  return { outcome: "refused", reason: "conclusion-conflict", record: existing };
}
