import type { JobRecord } from "../records/jobs";
import { clockUtc } from "../outbox/describe-failure";
import type { DispatchRecord } from "../records/dispatches";

/** Every state a downstream of one delivery can be in, as the page and `/relay/v1/runs` name it. */
export type StateName =
  | "pending"
  | "retrying"
  | "given_up"
  | "superseded"
  | "queued"
  | "in_progress"
  | "success"
  | "failure"
  | "timed_out"
  | "cancelled"
  | "completed";

export interface DownstreamState {
  name: StateName;
  /** why it is in this state, in plain words (downstream-reported text is not part of it) */
  reason: string;
  /** since when it has been in this state (epoch ms), when known */
  since: number | null;
  /** why this is stuck (past a deadline, or due work nobody ran), or null */
  stuck: string | null;
}

/** The downstream's deadlines from the config; null when it is no longer configured. */
export interface Deadlines {
  pickupTimeoutMinutes: number;
  jobTimeoutMinutes: number;
}

/** Due outbox work older than this is stuck: a runner would have taken it within seconds. */
const DUE_WORK_STUCK_MS = 5 * 60_000;

/**
 * Where one downstream of one delivery stands, why, since when, and whether it is stuck: from the
 * dispatch record and the job records of its latest run attempt (a re-run supersedes the first).
 * A run-scope report, when there is one, speaks for the whole run. Pure.
 */
export function downstreamState(
  record: DispatchRecord,
  allJobs: readonly JobRecord[],
  deadlines: Deadlines | null,
  now: number,
): DownstreamState {
  if (record.state === "failed") {
    const attempts = record.attempts ?? 1;
    const at = record.failedAt ?? null;
    return {
      name: "given_up",
      reason: `gave up after ${plural(attempts, "attempt")}${at === null ? "" : ` at ${clockUtc(at)}`}: ${record.lastError ?? "no reason recorded"}`,
      since: at,
      stuck: null,
    };
  }
  if (record.state === "superseded") {
    const by = record.supersededBy ? ` (${record.supersededBy.slice(0, 7)})` : "";
    return {
      name: "superseded",
      reason: `not sent: a newer commit${by} was pushed to the pull request first`,
      since: record.supersededAt ?? null,
      stuck: null,
    };
  }
  if (record.state === "pending") {
    const attempts = record.attempts ?? 0;
    const dueAt = record.nextAttemptAt ?? record.createdAt;
    const stuck =
      now - dueAt > DUE_WORK_STUCK_MS ? `due since ${clockUtc(dueAt)} and not run: is the outbox runner up?` : null;
    if (attempts === 0 || record.lastError === null)
      return { name: "pending", reason: "not sent yet", since: record.createdAt, stuck };
    const next = record.nextAttemptAt ?? null;
    return {
      name: "retrying",
      reason: `${plural(attempts, "attempt")} failed, last: ${record.lastError}${next === null ? "" : `; next try ${clockUtc(next, true)}`}`,
      since: record.createdAt,
      stuck,
    };
  }
  const jobs = latestAttempt(allJobs);
  const run = jobs.find((j) => j.scope === "run");
  const relevant = run ? [run] : jobs;
  const dispatchedAt = record.dispatchedAt ?? record.createdAt;
  if (relevant.length === 0) {
    const deadline = deadlines && dispatchedAt + deadlines.pickupTimeoutMinutes * 60_000;
    return {
      name: "queued",
      reason: "dispatched, not picked up yet",
      since: dispatchedAt,
      stuck:
        deadline !== null && now > deadline
          ? `not picked up within its ${deadlines?.pickupTimeoutMinutes} min pickup timeout`
          : null,
    };
  }
  return reportedState(relevant, deadlines, now);
}

/**
 * Where a downstream stands from the jobs it reported (at least one; the ones that speak for its
 * latest run): timed out, running, or concluded, with why. Pure.
 */
export function reportedState(
  relevant: readonly JobRecord[],
  deadlines: Deadlines | null,
  now: number,
): DownstreamState {
  const timedOut = relevant.filter((j) => j.state === "TIMED_OUT");
  if (timedOut.length > 0) {
    const unpicked = timedOut.some((j) => j.inProgressAt === null);
    return {
      name: "timed_out",
      reason: unpicked ? "not picked up within the pickup timeout" : "no result within the job timeout",
      since: latest(timedOut),
      stuck: null,
    };
  }
  const running = relevant.filter((j) => j.state === "IN_PROGRESS");
  if (running.length > 0) {
    const started = Math.min(...running.map((j) => j.inProgressAt ?? j.updatedAt));
    const deadline = deadlines && started + deadlines.jobTimeoutMinutes * 60_000;
    return {
      name: "in_progress",
      reason: relevant.length === 1 ? "running" : `${running.length} of ${plural(relevant.length, "job")} running`,
      since: started,
      stuck:
        deadline !== null && now > deadline ? `running past its ${deadlines?.jobTimeoutMinutes} min job timeout` : null,
    };
  }
  const conclusions = relevant.map((j) => j.conclusion ?? "neutral");
  const since = latest(relevant);
  const count = (c: string) => conclusions.filter((x) => x === c).length;
  const of = (c: string, verb: string) =>
    relevant.length === 1 ? verb : `${count(c)} of ${plural(relevant.length, "job")} ${verb}`;
  if (count("failure") > 0) return { name: "failure", reason: of("failure", "failed"), since, stuck: null };
  if (count("cancelled") > 0) return { name: "cancelled", reason: of("cancelled", "cancelled"), since, stuck: null };
  if (count("timed_out") > 0)
    return { name: "timed_out", reason: of("timed_out", "timed out (reported by the downstream)"), since, stuck: null };
  if (count("action_required") > 0) return { name: "completed", reason: "action required", since, stuck: null };
  if (conclusions.every((c) => c === "success" || c === "skipped" || c === "neutral")) {
    return {
      name: "success",
      reason: relevant.length === 1 ? "succeeded" : `${plural(relevant.length, "job")} succeeded`,
      since,
      stuck: null,
    };
  }
  return { name: "completed", reason: `concluded ${[...new Set(conclusions)].join(", ")}`, since, stuck: null };
}

/** The jobs of the highest run attempt: a re-run's result replaces the first run's. */
function latestAttempt(jobs: readonly JobRecord[]): JobRecord[] {
  const attempt = Math.max(...jobs.map((j) => Number(j.runAttempt) || 1));
  return jobs.filter((j) => (Number(j.runAttempt) || 1) === attempt);
}

function latest(jobs: readonly JobRecord[]): number {
  return Math.max(...jobs.map((j) => j.completedAt ?? j.updatedAt));
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}
