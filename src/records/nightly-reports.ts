import { z } from "zod";
import { LEVELS } from "../vocabulary/levels";
import type { Store, WriteOp } from "../store/store";
import { RECORD_TTL_SECONDS } from "./dispatches";
import { keys } from "./keys";
import { readRecord } from "./read-record";

/**
 * SPEC §4 nightly and periodic reports: results of downstream runs no dispatch started (a schedule,
 * a cron), filed under the upstream commit they tested. Each report is written once, with its HUD
 * task, and never changed; GitHub's answer to "is this a commit of that upstream" is cached beside.
 */
export const PERIODIC_EVENTS = ["nightly", "periodic"] as const;
export type PeriodicEvent = (typeof PERIODIC_EVENTS)[number];

export const nightlyReportSchema = z.object({
  /** the callback request that recorded it */
  requestId: z.string(),
  event: z.enum(PERIODIC_EVENTS),
  /** the downstream, in the config's spelling */
  downstream: z.string(),
  level: z.enum(LEVELS),
  /** the upstream GitHub confirmed the commit for (config spelling), and the commit (lower-case hex) */
  upstream: z.string(),
  sha: z.string(),
  runId: z.string(),
  runAttempt: z.string(),
  scope: z.enum(["job", "run"]),
  /** null for scope "run" */
  jobName: z.string().nullable(),
  workflowName: z.string().nullable(),
  conclusion: z.string(),
  url: z.string().nullable(),
  checkRunId: z.string().nullable(),
  /** epoch ms, the relay's clock */
  at: z.number(),
});
export type NightlyReport = z.infer<typeof nightlyReportSchema>;

/** What identifies a report (SPEC §4): a repeat of it changes nothing. */
export type NightlyReportKey = Pick<NightlyReport, "downstream" | "sha" | "runId" | "runAttempt" | "scope" | "jobName">;

/** Free-text parts are encoded so a `:` in a job name cannot make two keys collide. */
export function nightlyReportId(key: NightlyReportKey): string {
  const job = key.scope === "run" ? "__run__" : `job=${key.jobName ?? ""}`;
  return [key.downstream.toLowerCase(), key.sha, key.runId, key.runAttempt, job].map(encodeURIComponent).join(":");
}

const reportKey = (key: NightlyReportKey) => keys.nightly.report(nightlyReportId(key));

export function parseNightlyReport(raw: string | null): NightlyReport | null {
  return readRecord("nightly report", nightlyReportSchema, raw);
}

/** The stored report as text, for a write conditional on it (`writeIfNightlyReportIs`). */
export function readRawNightlyReport(store: Pick<Store, "get">, key: NightlyReportKey): Promise<string | null> {
  return store.get(reportKey(key));
}

/** Applies `ops` only if the report's stored text is still `raw` (null: none stored); true when applied. */
export function writeIfNightlyReportIs(
  store: Pick<Store, "writeIf">,
  key: NightlyReportKey,
  raw: string | null,
  ops: WriteOp[],
): Promise<boolean> {
  return store.writeIf(reportKey(key), raw, ops);
}

/** Stores a new report and indexes it by time and upstream commit, for the one atomic write that also enqueues its HUD record. */
export function recordNightlyReportOps(report: NightlyReport): WriteOp[] {
  const id = nightlyReportId(report);
  const ttlSeconds = RECORD_TTL_SECONDS;
  return [
    { op: "set", key: keys.nightly.report(id), value: JSON.stringify(report), ttlSeconds },
    { op: "zadd", key: keys.nightly.recent, member: id, score: report.at },
    { op: "zremBelow", key: keys.nightly.recent, score: report.at - ttlSeconds * 1000 },
    { op: "zadd", key: keys.nightly.bySha(report.upstream, report.sha), member: id, score: report.at, ttlSeconds },
  ];
}

/** Up to `limit` reports, newest first: one upstream commit's (upstream and sha given), or all of them. */
export async function readNightlyReports(
  store: Pick<Store, "rangeByScoreDesc" | "getMany">,
  filter: { upstream?: string; sha?: string },
  limit: number,
): Promise<NightlyReport[]> {
  const index =
    filter.upstream !== undefined && filter.sha !== undefined
      ? keys.nightly.bySha(filter.upstream, filter.sha)
      : keys.nightly.recent;
  const ids = await store.rangeByScoreDesc(index, Infinity, -Infinity, limit);
  return (await store.getMany(ids.map(keys.nightly.report)))
    .map(parseNightlyReport)
    .filter((report): report is NightlyReport => report !== null);
}

/** GitHub's answers to "is `sha` a commit of upstream", cached per upstream: "commit", "unknown", or null when not asked lately. */
export async function readCommitChecks(
  store: Pick<Store, "getMany">,
  upstreams: readonly string[],
  sha: string,
): Promise<("commit" | "unknown" | null)[]> {
  return (await store.getMany(upstreams.map((upstream) => keys.nightly.commitCheck(upstream, sha)))).map((value) =>
    value === "commit" || value === "unknown" ? value : null,
  );
}

export async function storeCommitCheck(
  store: Pick<Store, "write">,
  upstream: string,
  sha: string,
  answer: "commit" | "unknown",
  ttlSeconds: number,
): Promise<void> {
  await store.write([{ op: "set", key: keys.nightly.commitCheck(upstream, sha), value: answer, ttlSeconds }]);
}
