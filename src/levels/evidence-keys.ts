import type { DispatchRecord } from "../relay/dispatch-record";
import type { WriteOp } from "../store/store";

/**
 * The storage level evidence adds (kept here, in one place): a per-downstream index of its dispatches,
 * scored by creation, so one downstream's window is read without scanning every downstream's runs (the
 * global `relay:runs` index is read newest first and capped; a busy neighbour would push a quiet
 * downstream's history out of reach). Members are request ids; the records themselves are the
 * dispatch and job records, which live as long as this index does.
 */
export const dispatchesOfDownstreamKey = (repo: string) => `relay:runs:downstream:${repo.toLowerCase()}`;

/** Index ops written in the same atomic step as the dispatch record; trimmed to the records' lifetime. */
export function downstreamIndexOps(record: Pick<DispatchRecord, "requestId" | "downstream" | "createdAt">, ttlSeconds: number): WriteOp[] {
  const key = dispatchesOfDownstreamKey(record.downstream);
  return [
    { op: "zadd", key, member: record.requestId, score: record.createdAt, ttlSeconds },
    { op: "zremBelow", key, score: record.createdAt - ttlSeconds * 1000 },
  ];
}
