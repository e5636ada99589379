/**
 * What the app writes into a check run's `external_id` so that a `check_run.rerequested` (which
 * carries only the check run) leads back to the dispatch it reports on.
 */
export interface CheckRunOrigin {
  requestId: string;
  /** the downstream job for a per-job check; null for the per-downstream check */
  job: string | null;
}

const PREFIX = "ci-relay";
// Request ids are UUIDs (no colon); a job name may contain anything, so it comes last.
const FORMAT = /^ci-relay:([^:]+)(?::([\s\S]*))?$/;

export function formatExternalId(origin: CheckRunOrigin): string {
  return origin.job === null ? `${PREFIX}:${origin.requestId}` : `${PREFIX}:${origin.requestId}:${origin.job}`;
}

/** null for check runs the app did not create this way (another app's, or hand-made). */
export function parseExternalId(value: string | null | undefined): CheckRunOrigin | null {
  const match = FORMAT.exec(value ?? "");
  return match ? { requestId: match[1], job: match[2] ?? null } : null;
}
