import { z } from "zod";
import type { Level } from "../config/types";
import { RECORD_TTL_SECONDS } from "../relay/dispatch-record";
import type { WriteOp } from "../store/store";

/**
 * SPEC §4 nightly and periodic reports: results of downstream runs no dispatch started (a schedule,
 * a cron), filed under the upstream commit they tested. This file holds what the relay keeps of
 * them and every store key it keeps them under.
 */
export const PERIODIC_EVENTS = ["nightly", "periodic"] as const;
export type PeriodicEvent = (typeof PERIODIC_EVENTS)[number];

/** One accepted report, as stored; each is written once and never changed. */
export interface NightlyReport {
  /** the callback request that recorded it */
  requestId: string;
  event: PeriodicEvent;
  /** the downstream, in the config's spelling */
  downstream: string;
  level: Level;
  /** the upstream GitHub confirmed the commit for (config spelling), and the commit (lower-case hex) */
  upstream: string;
  sha: string;
  runId: string;
  runAttempt: string;
  scope: "job" | "run";
  /** null for scope "run" */
  jobName: string | null;
  workflowName: string | null;
  conclusion: string;
  url: string | null;
  checkRunId: string | null;
  /** epoch ms, the relay's clock */
  at: number;
}

/** What identifies a report (SPEC §4): a repeat of it changes nothing. */
export type NightlyReportKey = Pick<NightlyReport, "downstream" | "sha" | "runId" | "runAttempt" | "scope" | "jobName">;

/** Free-text parts are encoded so a `:` in a job name cannot make two keys collide. */
export function nightlyReportId(key: NightlyReportKey): string {
  const job = key.scope === "run" ? "__run__" : `job=${key.jobName ?? ""}`;
  return [key.downstream.toLowerCase(), key.sha, key.runId, key.runAttempt, job].map(encodeURIComponent).join(":");
}

// Every key this feature writes, in one place.
const reportKey = (id: string) => `relay:nightly:report:${id}`;
/** all reports, scored by when they were accepted: the dashboard's unfiltered view */
const REPORTS_INDEX = "relay:nightly:reports";
/** the reports of one upstream commit: `/relay/v1/runs?upstream=…&sha=…` */
const reportsByShaKey = (upstream: string, sha: string) => `relay:nightly:sha:${upstream.toLowerCase()}:${sha.toLowerCase()}`;
/** GitHub's answer to "is this a commit of that upstream", cached (see `upstream-commit`) */
export const commitCheckKey = (upstream: string, sha: string) => `relay:nightly:commit:${upstream.toLowerCase()}:${sha.toLowerCase()}`;

export const nightlyReportKey = (key: NightlyReportKey) => reportKey(nightlyReportId(key));

/** Stores a new report and indexes it, for the one atomic write that also enqueues its HUD record. */
export function recordNightlyReportOps(report: NightlyReport): WriteOp[] {
  const id = nightlyReportId(report);
  const ttlSeconds = RECORD_TTL_SECONDS;
  return [
    { op: "set", key: reportKey(id), value: JSON.stringify(report), ttlSeconds },
    { op: "zadd", key: REPORTS_INDEX, member: id, score: report.at },
    { op: "zremBelow", key: REPORTS_INDEX, score: report.at - ttlSeconds * 1000 },
    { op: "zadd", key: reportsByShaKey(report.upstream, report.sha), member: id, score: report.at, ttlSeconds },
  ];
}

/** Where to read report ids from: one upstream commit's, or all of them (newest first either way). */
export function nightlyIndexKey(filter: { upstream?: string; sha?: string }): string {
  return filter.upstream !== undefined && filter.sha !== undefined ? reportsByShaKey(filter.upstream, filter.sha) : REPORTS_INDEX;
}

export const nightlyReportKeyOfId = reportKey;

const storedReportSchema = z.object({
  requestId: z.string(),
  event: z.enum(PERIODIC_EVENTS),
  downstream: z.string(),
  level: z.enum(["L1", "L2", "L3", "L4"]),
  upstream: z.string(),
  sha: z.string(),
  runId: z.string(),
  runAttempt: z.string(),
  scope: z.enum(["job", "run"]),
  jobName: z.string().nullable(),
  workflowName: z.string().nullable(),
  conclusion: z.string(),
  url: z.string().nullable(),
  checkRunId: z.string().nullable(),
  at: z.number(),
});

/** A stored report, or null when absent or not one (a record is read back validated, never cast). */
export function parseNightlyReport(raw: string | null): NightlyReport | null {
  if (raw === null) return null;
  try {
    const parsed = storedReportSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
