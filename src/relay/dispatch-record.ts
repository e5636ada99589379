import type { Level, Transport } from "../config/types";
import type { WriteOp } from "../store/store";

/**
 * What the relay knows about one dispatch (one upstream delivery to one downstream). Written when the
 * delivery is accepted, updated when the dispatch is sent or given up; read by callbacks (was this
 * dispatch made?) and the dashboard.
 */
export interface DispatchRecord {
  requestId: string;
  deliveryId: string;
  event: "pull_request" | "push";
  action: string | null;
  /**
   * `prNumber` is also set for a ciflow tag push (the PR it names); `cloneUrl` is where `sha` can be
   * fetched (a fork PR's head repository), absent in records written before it was kept.
   */
  upstream: { repo: string; sha: string; ref: string; prNumber: number | null; cloneUrl?: string | null };
  /** the config's spelling */
  downstream: string;
  level: Level;
  transport: Transport;
  /** `superseded`: never sent, because the PR got a newer head first */
  state: "pending" | "dispatched" | "failed" | "superseded";
  /** when the webhook was received (epoch ms) */
  createdAt: number;
  dispatchedAt: number | null;
  /** the last failed attempt, in plain words (`describeFailure`); null once sent */
  lastError: string | null;
  /** attempts made so far (failed ones, plus the one that sent it); absent on records written before it was kept */
  attempts?: number;
  /** while retrying: when the outbox tries again (epoch ms) */
  nextAttemptAt?: number | null;
  /** when the relay gave up on it (epoch ms) */
  failedAt?: number | null;
  /** when superseded, and by which head SHA of the PR */
  supersededAt?: number | null;
  supersededBy?: string | null;
}

/** Dashboards look back weeks, not months; records expire so Redis does not grow without bound. */
export const RECORD_TTL_SECONDS = 30 * 24 * 3600;

export const dispatchKey = (requestId: string) => `relay:dispatch:${requestId}`;
export const RUNS_INDEX = "relay:runs";
export const runsByShaKey = (repo: string, sha: string) => `relay:runs:sha:${repo.toLowerCase()}:${sha}`;
export const runsByPrKey = (repo: string, pr: number) => `relay:runs:pr:${repo.toLowerCase()}:${pr}`;
/**
 * Level evidence's index: one downstream's dispatches, scored by creation, so its window is read
 * without scanning every downstream's runs (`relay:runs` is read newest first and capped; a busy
 * neighbour would push a quiet downstream's history out of reach). Trimmed to the records' lifetime.
 */
export const dispatchesOfDownstreamKey = (repo: string) => `relay:runs:downstream:${repo.toLowerCase()}`;

export function recordDispatchOps(record: DispatchRecord): WriteOp[] {
  const { requestId, createdAt, upstream } = record;
  const ttlSeconds = RECORD_TTL_SECONDS;
  const ops: WriteOp[] = [
    { op: "set", key: dispatchKey(requestId), value: JSON.stringify(record), ttlSeconds },
    // The index of all runs outlives any one record: trim it to the records' lifetime instead.
    { op: "zadd", key: RUNS_INDEX, member: requestId, score: createdAt },
    { op: "zremBelow", key: RUNS_INDEX, score: createdAt - ttlSeconds * 1000 },
    { op: "zadd", key: runsByShaKey(upstream.repo, upstream.sha), member: requestId, score: createdAt, ttlSeconds },
    { op: "zadd", key: dispatchesOfDownstreamKey(record.downstream), member: requestId, score: createdAt, ttlSeconds },
    { op: "zremBelow", key: dispatchesOfDownstreamKey(record.downstream), score: createdAt - ttlSeconds * 1000 },
  ];
  if (upstream.prNumber !== null) {
    ops.push({ op: "zadd", key: runsByPrKey(upstream.repo, upstream.prNumber), member: requestId, score: createdAt, ttlSeconds });
  }
  return ops;
}

export function parseDispatchRecord(raw: string | null): DispatchRecord | null {
  return raw === null ? null : (JSON.parse(raw) as DispatchRecord);
}
