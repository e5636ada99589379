import { sameRepo, type RelayConfig } from "../config/types";
import { reportedState } from "./downstream-state";
import { configOrder, type DownstreamView, type JobView, type RunsQuery, type UpstreamRunView } from "./list-runs";
import type { Store } from "../store/store";
import { readNightlyReports, type NightlyReport } from "../records/nightly-reports";
import type { JobRecord } from "../records/jobs";

/**
 * SPEC §7 for nightly and periodic reports: one entry per (upstream commit, event) with a row per
 * downstream (config order) and each report as a job, shaped like a dispatch's entry so the runs list
 * and the page show them under the commit, `event` saying which kind. No dispatch preceded them: the
 * dispatch fields are null. Newest first; none for a PR (reports name commits only).
 */
export async function listNightlyRuns(
  store: Store,
  query: RunsQuery,
  config: RelayConfig | null,
  now: number,
): Promise<UpstreamRunView[]> {
  if (query.pr !== undefined) return [];
  // Several reports share an entry, and without a sha an upstream filter applies after reading: read more.
  const reports = (
    await readNightlyReports(store, { upstream: query.upstream, sha: query.sha?.toLowerCase() }, query.limit * 4)
  ).filter((r) => query.upstream === undefined || sameRepo(r.upstream, query.upstream));

  const groups = new Map<string, NightlyReport[]>();
  for (const report of reports) {
    const key = `${report.event}:${report.upstream.toLowerCase()}:${report.sha}`;
    groups.set(key, [...(groups.get(key) ?? []), report]);
  }
  const order = configOrder(config);
  return [...groups.values()]
    .map((group) => entry(group, config, order, now))
    .sort((a, b) => Date.parse(b.receivedAt) - Date.parse(a.receivedAt))
    .slice(0, query.limit);
}

function entry(
  reports: NightlyReport[],
  config: RelayConfig | null,
  order: (repo: string) => number,
  now: number,
): UpstreamRunView {
  const [{ upstream, sha, event }] = reports;
  const byDownstream = new Map<string, NightlyReport[]>();
  for (const report of reports) {
    const key = report.downstream.toLowerCase();
    byDownstream.set(key, [...(byDownstream.get(key) ?? []), report]);
  }
  return {
    upstream: { repo: upstream, sha, ref: null, prNumber: null },
    event,
    deliveryId: sha,
    receivedAt: iso(Math.min(...reports.map((r) => r.at))),
    receivedAtSource: "relay",
    downstreams: [...byDownstream.values()]
      .map((own) => downstreamView(own, config, now))
      .sort((a, b) => order(a.repo) - order(b.repo) || a.repo.localeCompare(b.repo)),
  };
}

/** A downstream's row: its state from the latest run it reported (its highest attempt), every report a job. */
function downstreamView(reports: NightlyReport[], config: RelayConfig | null, now: number): DownstreamView {
  const oldestFirst = [...reports].sort((a, b) => a.at - b.at);
  const latest = oldestFirst[oldestFirst.length - 1];
  const ofRun = oldestFirst.filter((r) => r.runId === latest.runId);
  const attempt = Math.max(...ofRun.map((r) => Number(r.runAttempt) || 1));
  const state = reportedState(ofRun.filter((r) => (Number(r.runAttempt) || 1) === attempt).map(asJobRecord), null, now);
  return {
    requestId: null,
    repo: latest.downstream,
    level: latest.level,
    transport: null,
    dispatchState: null,
    state: {
      ...state,
      since: iso(state.since ?? latest.at),
      ageSeconds: Math.max(0, Math.round((now - (state.since ?? latest.at)) / 1000)),
    },
    dispatchedAt: null,
    lastError: null,
    attempts: 0,
    nextAttemptAt: null,
    failedAt: null,
    oncalls: [...(config?.downstreams.find((d) => sameRepo(d.repo, latest.downstream))?.oncalls ?? [])],
    jobs: oldestFirst.map(jobView),
  };
}

/** A report is a job that completed when it was reported, with no timings of the relay's. */
function asJobRecord(r: NightlyReport): JobRecord {
  return {
    requestId: r.requestId,
    scope: r.scope,
    jobName: r.jobName,
    runId: r.runId,
    runAttempt: r.runAttempt,
    state: "COMPLETED",
    conclusion: r.conclusion,
    detailsUrl: r.url,
    workflowName: r.workflowName,
    checkRunId: r.checkRunId,
    inProgressAt: null,
    completedAt: r.at,
    queueTimeSeconds: null,
    executionTimeSeconds: null,
    updatedAt: r.at,
  };
}

function jobView(r: NightlyReport): JobView {
  return {
    scope: r.scope,
    name: r.scope === "run" ? (r.workflowName ?? "run") : (r.jobName ?? ""),
    runId: r.runId,
    runAttempt: r.runAttempt,
    state: "COMPLETED",
    conclusion: r.conclusion,
    queueTimeSeconds: null,
    executionTimeSeconds: null,
    url: r.url,
    inProgressAt: null,
    completedAt: iso(r.at),
  };
}

const iso = (epochMs: number) => new Date(epochMs).toISOString();
