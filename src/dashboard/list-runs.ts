import { z } from "zod";
import { sameRepo, type RelayConfig } from "../config/types";
import { readJobsOf, type JobRecord } from "../records/jobs";
import { RelayError } from "../errors/failure-kinds";
import { listDispatchIds, readDispatches, type DispatchIndex, type DispatchRecord } from "../records/dispatches";
import type { Store } from "../store/store";
import type { PeriodicEvent } from "../records/nightly-reports";
import { downstreamState, type StateName } from "./downstream-state";

/** SPEC §7 query: `upstream=o/r&sha=...|pr=N&limit=...`. */
const runsQuerySchema = z
  .object({
    upstream: z
      .string()
      .regex(/^[\w.-]+\/[\w.-]+$/, { error: "must look like owner/repo" })
      .optional(),
    sha: z
      .string()
      .regex(/^[0-9a-f]{7,40}$/i, { error: "must be a hex commit SHA" })
      .optional(),
    pr: z.coerce.number().int().positive().optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
  })
  .refine((q) => (q.sha === undefined && q.pr === undefined) || q.upstream !== undefined, {
    error: "sha and pr need upstream",
  })
  .refine((q) => q.sha === undefined || q.pr === undefined, { error: "give sha or pr, not both" });

export type RunsQuery = z.infer<typeof runsQuerySchema>;

export interface JobView {
  scope: "job" | "run";
  name: string;
  runId: string;
  runAttempt: string;
  state: JobRecord["state"];
  conclusion: string | null;
  queueTimeSeconds: number | null;
  executionTimeSeconds: number | null;
  url: string | null;
  /** ISO times of its transitions, null until they happened */
  inProgressAt: string | null;
  completedAt: string | null;
}

/** Where a downstream stands and why (see `downstreamState`), with its age at the time of the answer. */
export interface StateView {
  name: StateName;
  reason: string;
  since: string | null;
  ageSeconds: number | null;
  /** why it is stuck, or null */
  stuck: string | null;
}

/** A downstream of one upstream delivery, or of one nightly/periodic report group (no dispatch: the dispatch fields are null). */
export interface DownstreamView {
  requestId: string | null;
  repo: string;
  level: DispatchRecord["level"];
  transport: DispatchRecord["transport"] | null;
  dispatchState: DispatchRecord["state"] | null;
  state: StateView;
  dispatchedAt: string | null;
  /** the last failed attempt in plain words ("DNS failure: ...", "HTTP 502 from GitHub") */
  lastError: string | null;
  attempts: number;
  nextAttemptAt: string | null;
  failedAt: string | null;
  /** the config's oncalls of the downstream (none once it left the config) */
  oncalls: string[];
  jobs: JobView[];
}

export interface UpstreamRunView {
  /** `ref` is null for nightly and periodic reports: they name a commit, not a ref */
  upstream: Omit<DispatchRecord["upstream"], "ref"> & { ref: string | null };
  event: DispatchRecord["event"] | PeriodicEvent;
  /** the upstream delivery; the commit SHA for nightly and periodic reports (as CRCR's `delivery_id`) */
  deliveryId: string;
  /**
   * When the relay accepted the delivery (the dispatch records' creation): the relay's clock, not
   * GitHub's delivery time, which the dispatch record does not hold; `receivedAtSource` says which.
   */
  receivedAt: string;
  receivedAtSource: "relay";
  /** in config order (downstreams no longer configured last, by name) */
  downstreams: DownstreamView[];
}

export function parseRunsQuery(query: unknown): RunsQuery {
  const parsed = runsQuerySchema.safeParse(query);
  if (!parsed.success) {
    throw new RelayError(
      "validation-failed",
      parsed.error.issues.map((i) => `${i.path.join(".") || "query"}: ${i.message}`).join("; "),
    );
  }
  return parsed.data;
}

/**
 * Recent dispatches, newest first, grouped per upstream delivery with each downstream's dispatch and
 * job states and the reason for its state. Reads indexes only: cost grows with `limit`, not with
 * history. `config` gives the downstream order and deadlines (null: not loaded, stored order).
 */
export async function listRuns(
  store: Store,
  query: RunsQuery,
  config: RelayConfig | null = null,
  now: number = Date.now(),
): Promise<UpstreamRunView[]> {
  const index: DispatchIndex =
    query.upstream && query.sha
      ? { repo: query.upstream, sha: query.sha.toLowerCase() }
      : query.upstream && query.pr
        ? { repo: query.upstream, pr: query.pr }
        : { all: true };
  // Without sha/pr, an upstream filter applies after reading: fetch more to fill the page.
  const overscan = "all" in index && query.upstream ? 4 : 1;
  const ids = await listDispatchIds(store, index, query.limit * overscan);
  const records = (await readDispatches(store, ids))
    .filter((r) => !query.upstream || r.upstream.repo.toLowerCase() === query.upstream.toLowerCase())
    .slice(0, query.limit);

  const jobs = await Promise.all(records.map((r) => jobsOf(store, r.requestId)));
  const groups = new Map<string, UpstreamRunView>();
  records.forEach((record, i) => {
    let group = groups.get(record.deliveryId);
    if (!group) {
      group = {
        upstream: record.upstream,
        event: record.event,
        deliveryId: record.deliveryId,
        receivedAt: iso(record.createdAt),
        receivedAtSource: "relay",
        downstreams: [],
      };
      groups.set(record.deliveryId, group);
    }
    // Several records of one delivery: the earliest is when it was accepted (a re-run adds later ones).
    if (record.createdAt < Date.parse(group.receivedAt)) group.receivedAt = iso(record.createdAt);
    const configured = config?.downstreams.find((d) => sameRepo(d.repo, record.downstream)) ?? null;
    const state = downstreamState(record, jobs[i], configured, now);
    group.downstreams.push({
      requestId: record.requestId,
      repo: record.downstream,
      level: record.level,
      transport: record.transport,
      dispatchState: record.state,
      state: {
        ...state,
        since: isoOrNull(state.since),
        ageSeconds: state.since === null ? null : Math.max(0, Math.round((now - state.since) / 1000)),
      },
      dispatchedAt: isoOrNull(record.dispatchedAt),
      lastError: record.lastError,
      attempts: record.attempts ?? (record.state === "dispatched" ? 1 : 0),
      nextAttemptAt: record.state === "pending" ? isoOrNull(record.nextAttemptAt ?? null) : null,
      failedAt: isoOrNull(record.failedAt ?? null),
      oncalls: [...(configured?.oncalls ?? [])],
      jobs: jobs[i].map(jobView),
    });
  });
  const order = configOrder(config);
  for (const group of groups.values())
    group.downstreams.sort((a, b) => order(a.repo) - order(b.repo) || a.repo.localeCompare(b.repo));
  return [...groups.values()];
}

/**
 * Interleaves two newest-first lists of entries (dispatches, nightly reports) by `receivedAt`, each
 * list keeping its own order, up to `limit`. Pure.
 */
export function mergeNewestFirst(
  a: readonly UpstreamRunView[],
  b: readonly UpstreamRunView[],
  limit: number,
): UpstreamRunView[] {
  const merged: UpstreamRunView[] = [];
  let [i, j] = [0, 0];
  while ((i < a.length || j < b.length) && merged.length < limit) {
    const takeA = j >= b.length || (i < a.length && Date.parse(a[i].receivedAt) >= Date.parse(b[j].receivedAt));
    merged.push(takeA ? a[i++] : b[j++]);
  }
  return merged;
}

/** A downstream's position in the config; unconfigured ones after all configured ones. */
export function configOrder(config: RelayConfig | null): (repo: string) => number {
  const repos = config?.downstreams.map((d) => d.repo) ?? [];
  return (repo) => {
    const i = repos.findIndex((r) => sameRepo(r, repo));
    return i === -1 ? repos.length : i;
  };
}

/** The job records of one dispatch, oldest first. */
export async function jobsOf(store: Store, requestId: string): Promise<JobRecord[]> {
  return (await readJobsOf(store, requestId, 100)).reverse();
}

function jobView(r: JobRecord): JobView {
  return {
    scope: r.scope,
    name: r.scope === "run" ? (r.workflowName ?? "run") : (r.jobName ?? ""),
    runId: r.runId,
    runAttempt: r.runAttempt,
    state: r.state,
    conclusion: r.conclusion,
    queueTimeSeconds: r.queueTimeSeconds,
    executionTimeSeconds: r.executionTimeSeconds,
    url: r.detailsUrl,
    inProgressAt: isoOrNull(r.inProgressAt),
    completedAt: isoOrNull(r.completedAt),
  };
}

const iso = (epochMs: number) => new Date(epochMs).toISOString();
const isoOrNull = (epochMs: number | null) => (epochMs === null ? null : iso(epochMs));
