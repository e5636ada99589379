import type { LevelsConfig } from "../config/levels-config";
import { sameRepo, type Downstream } from "../config/types";
import { judgeLevel, type FailedThreshold } from "../levels/judge-level";
import type { DispatchRecord } from "../records/dispatches";
import type { JobRecord } from "../records/jobs";
import { downstreamState } from "./downstream-state";
import type { Level } from "../vocabulary/levels";

/** SPEC §7 `GET /relay/v1/downstreams`: each downstream's record over the window. */
export interface DownstreamSummary {
  repo: string;
  level: Level;
  oncalls: string[];
  /** dispatches created in the window, in any state */
  dispatches: number;
  /** of the dispatches whose result is known (success, failure, cancelled, timed out): the share that succeeded; null if none */
  successRate: number | null;
  /** of the sent dispatches whose pickup is decided (picked up, or past the pickup timeout without): the share picked up; null if none */
  pickupRate: number | null;
  /** dispatches that timed out (not picked up, or no result within the job timeout) */
  timeouts: number;
  /** over every job report with the time (nearest-rank percentiles); null without any */
  queueSeconds: Percentiles;
  executionSeconds: Percentiles;
  /** the downstream's latest report (a job started or finished); the relay's own timeouts are not reports */
  lastReportAt: string | null;
  /** the evidence meets every threshold its level asks for (`levels:` in the config; none asked: true) */
  meetsLevel: boolean;
  /** the thresholds of its level the evidence does not meet, with what the window shows */
  failedThresholds: FailedThreshold[];
  /** more dispatches than one summary reads (EVIDENCE_MAX_DISPATCHES): the newest ones were read, not the whole window */
  truncated: boolean;
}

export interface Percentiles {
  p50: number | null;
  p95: number | null;
}

export interface DownstreamsSummary {
  windowDays: number;
  downstreams: DownstreamSummary[];
}

export interface DispatchHistory {
  record: DispatchRecord;
  jobs: readonly JobRecord[];
}

const FINISHED: ReadonlySet<string> = new Set(["success", "failure", "cancelled", "timed_out"]);

/** What a summary is made of: the config's downstreams and thresholds, and the stored dispatches read. */
export interface SummaryInput {
  downstreams: readonly Downstream[];
  levels: LevelsConfig;
  history: readonly DispatchHistory[];
  /** downstreams (lower case) with more dispatches in the window than were read */
  truncated: ReadonlySet<string>;
}

/**
 * Each configured downstream's recent record, in config order, from the stored dispatch and job
 * records, judged against its level's thresholds: what `GET /relay/v1/downstreams` answers and the
 * page's summary shows. Records outside the window are ignored. Pure.
 */
export function summarizeDownstreams(
  { downstreams, levels, history, truncated }: SummaryInput,
  windowDays: number,
  now: number,
): DownstreamsSummary {
  const since = now - windowDays * 24 * 3600_000;
  const recent = history.filter((h) => h.record.createdAt >= since && h.record.createdAt <= now);
  return {
    windowDays,
    downstreams: downstreams.map((downstream) => {
      const mine = recent.filter((h) => sameRepo(h.record.downstream, downstream.repo));
      const states = mine.map((h) => ({ ...h, state: downstreamState(h.record, h.jobs, downstream, now) }));
      const finished = states.filter((s) => FINISHED.has(s.state.name));
      const sent = states.filter((s) => s.record.state === "dispatched");
      const pickedUp = sent.filter((s) => s.jobs.some((j) => j.inProgressAt !== null || j.state === "COMPLETED"));
      const pickupDecided = sent.filter(
        (s) => pickedUp.includes(s) || s.state.name === "timed_out" || s.state.stuck !== null,
      );
      const jobs = mine.flatMap((h) => h.jobs);
      const reportedAt = jobs
        .flatMap((j) => [j.state === "COMPLETED" ? (j.completedAt ?? j.updatedAt) : null, j.inProgressAt])
        .filter((t): t is number => t !== null);
      const lastReport = reportedAt.length === 0 ? null : Math.max(...reportedAt);
      const evidence = {
        dispatches: mine.length,
        successRate: ratio(finished.filter((s) => s.state.name === "success").length, finished.length),
        pickupRate: ratio(pickedUp.length, pickupDecided.length),
        timeouts: states.filter((s) => s.state.name === "timed_out").length,
        queueSeconds: percentiles(jobs.map((j) => j.queueTimeSeconds)),
        executionSeconds: percentiles(jobs.map((j) => j.executionTimeSeconds)),
      };
      const judgement = judgeLevel(evidence, levels.thresholds[downstream.level]);
      return {
        repo: downstream.repo,
        level: downstream.level,
        oncalls: [...downstream.oncalls],
        ...evidence,
        lastReportAt: lastReport === null ? null : new Date(lastReport).toISOString(),
        meetsLevel: judgement.meets,
        failedThresholds: judgement.failed,
        truncated: truncated.has(downstream.repo.toLowerCase()),
      };
    }),
  };
}

function ratio(part: number, whole: number): number | null {
  return whole === 0 ? null : Math.round((part / whole) * 1000) / 1000;
}

/** Nearest-rank percentiles: the smallest value with at least p% of values at or below it. */
export function percentiles(values: readonly (number | null)[]): Percentiles {
  const known = values.filter((v): v is number => v !== null).sort((a, b) => a - b);
  const rank = (p: number) => known[Math.max(0, Math.ceil((p / 100) * known.length) - 1)];
  return known.length === 0 ? { p50: null, p95: null } : { p50: rank(50), p95: rank(95) };
}
