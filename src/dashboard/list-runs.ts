import { z } from "zod";
import { jobsOfKey, jobStateKeyOfId, parseJobRecord, type JobRecord } from "../callback/job-record";
import { RelayError } from "../http/failure-kinds";
import { dispatchKey, parseDispatchRecord, RUNS_INDEX, runsByPrKey, runsByShaKey, type DispatchRecord } from "../relay/dispatch-record";
import type { Store } from "../store/store";

/** SPEC §7 query: `upstream=o/r&sha=...|pr=N&limit=...`. */
const runsQuerySchema = z
  .object({
    upstream: z.string().regex(/^[\w.-]+\/[\w.-]+$/, { error: "must look like owner/repo" }).optional(),
    sha: z.string().regex(/^[0-9a-f]{7,40}$/i, { error: "must be a hex commit SHA" }).optional(),
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
}

export interface DownstreamView {
  requestId: string;
  repo: string;
  level: DispatchRecord["level"];
  transport: DispatchRecord["transport"];
  dispatchState: DispatchRecord["state"];
  dispatchedAt: string | null;
  lastError: string | null;
  jobs: JobView[];
}

export interface UpstreamRunView {
  upstream: DispatchRecord["upstream"];
  event: DispatchRecord["event"];
  deliveryId: string;
  receivedAt: string;
  downstreams: DownstreamView[];
}

export function parseRunsQuery(query: unknown): RunsQuery {
  const parsed = runsQuerySchema.safeParse(query);
  if (!parsed.success) {
    throw new RelayError("validation-failed", parsed.error.issues.map((i) => `${i.path.join(".") || "query"}: ${i.message}`).join("; "));
  }
  return parsed.data;
}

/**
 * Recent dispatches, newest first, grouped per upstream delivery with each downstream's dispatch and
 * job states. Reads indexes only: cost grows with `limit`, not with history.
 */
export async function listRuns(store: Store, query: RunsQuery): Promise<UpstreamRunView[]> {
  const index =
    query.upstream && query.sha
      ? runsByShaKey(query.upstream, query.sha.toLowerCase())
      : query.upstream && query.pr
        ? runsByPrKey(query.upstream, query.pr)
        : RUNS_INDEX;
  // Without sha/pr, an upstream filter applies after reading: fetch more to fill the page.
  const overscan = index === RUNS_INDEX && query.upstream ? 4 : 1;
  const ids = await store.rangeByScoreDesc(index, Infinity, -Infinity, query.limit * overscan);
  const records = (await store.getMany(ids.map(dispatchKey)))
    .map(parseDispatchRecord)
    .filter((r): r is DispatchRecord => r !== null)
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
        receivedAt: new Date(record.createdAt).toISOString(),
        downstreams: [],
      };
      groups.set(record.deliveryId, group);
    }
    group.downstreams.push({
      requestId: record.requestId,
      repo: record.downstream,
      level: record.level,
      transport: record.transport,
      dispatchState: record.state,
      dispatchedAt: record.dispatchedAt === null ? null : new Date(record.dispatchedAt).toISOString(),
      lastError: record.lastError,
      jobs: jobs[i],
    });
  });
  return [...groups.values()];
}

async function jobsOf(store: Store, requestId: string): Promise<JobView[]> {
  const members = await store.rangeByScoreDesc(jobsOfKey(requestId), Infinity, -Infinity, 100);
  const records = (await store.getMany(members.map(jobStateKeyOfId))).map(parseJobRecord);
  return records
    .filter((r): r is JobRecord => r !== null)
    .reverse()
    .map((r) => ({
      scope: r.scope,
      name: r.scope === "run" ? (r.workflowName ?? "run") : (r.jobName ?? ""),
      runId: r.runId,
      runAttempt: r.runAttempt,
      state: r.state,
      conclusion: r.conclusion,
      queueTimeSeconds: r.queueTimeSeconds,
      executionTimeSeconds: r.executionTimeSeconds,
      url: r.detailsUrl,
    }));
}
