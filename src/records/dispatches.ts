import { z } from "zod";
import { LEVELS } from "../vocabulary/levels";
import { updateWithRetry, type Store, type WriteOp } from "../store/store";
import { keys } from "./keys";
import { readRecord } from "./read-record";

/**
 * What the relay knows about one dispatch (one upstream delivery to one downstream). Written when the
 * delivery is accepted, updated when the dispatch is sent or given up; read by callbacks (was this
 * dispatch made?) and the dashboard.
 */
export const dispatchRecordSchema = z.object({
  requestId: z.string(),
  deliveryId: z.string(),
  event: z.enum(["pull_request", "push"]),
  action: z.string().nullable(),
  /**
   * `prNumber` is also set for a ciflow tag push (the PR it names); `cloneUrl` is where `sha` can be
   * fetched (a fork PR's head repository), absent in records written before it was kept.
   */
  upstream: z.object({
    repo: z.string(),
    sha: z.string(),
    ref: z.string(),
    prNumber: z.number().nullable(),
    cloneUrl: z.string().nullable().optional(),
  }),
  /** the config's spelling */
  downstream: z.string(),
  level: z.enum(LEVELS),
  transport: z.enum(["dispatch", "queue"]),
  /** `superseded`: never sent, because the PR got a newer head first */
  state: z.enum(["pending", "dispatched", "failed", "superseded"]),
  /** when the webhook was received (epoch ms) */
  createdAt: z.number(),
  dispatchedAt: z.number().nullable(),
  /** the last failed attempt, in plain words (`describeFailure`); null once sent */
  lastError: z.string().nullable(),
  /** attempts made so far (failed ones, plus the one that sent it); absent on records written before it was kept */
  attempts: z.number().optional(),
  /** while retrying: when the outbox tries again (epoch ms) */
  nextAttemptAt: z.number().nullable().optional(),
  /** when the relay gave up on it (epoch ms) */
  failedAt: z.number().nullable().optional(),
  /** when superseded, and by which head SHA of the PR */
  supersededAt: z.number().nullable().optional(),
  supersededBy: z.string().nullable().optional(),
});
export type DispatchRecord = z.infer<typeof dispatchRecordSchema>;

/** Dashboards look back weeks, not months; records expire so Redis does not grow without bound. */
export const RECORD_TTL_SECONDS = 30 * 24 * 3600;

/**
 * Which index of dispatches a listing reads: all recent ones, one commit's, one PR's, or one
 * downstream's (level evidence reads a downstream's window without scanning every downstream's runs:
 * the index of all runs is read newest first and capped, and a busy neighbour would push a quiet
 * downstream's history out of reach).
 */
export type DispatchIndex =
  { all: true } | { repo: string; sha: string } | { repo: string; pr: number } | { downstream: string };

export function dispatchIndexKey(index: DispatchIndex): string {
  if ("all" in index) return keys.dispatches.recent;
  if ("downstream" in index) return keys.dispatches.byDownstream(index.downstream);
  return "sha" in index ? keys.dispatches.bySha(index.repo, index.sha) : keys.dispatches.byPr(index.repo, index.pr);
}

/** Ops storing a new dispatch record and indexing it by time, commit, downstream and (for a PR) PR. */
export function recordDispatchOps(record: DispatchRecord): WriteOp[] {
  const { requestId, createdAt, upstream } = record;
  const ttlSeconds = RECORD_TTL_SECONDS;
  const ops: WriteOp[] = [
    { op: "set", key: keys.dispatches.record(requestId), value: JSON.stringify(record), ttlSeconds },
    // The index of all runs outlives any one record: trim it to the records' lifetime instead.
    { op: "zadd", key: keys.dispatches.recent, member: requestId, score: createdAt },
    { op: "zremBelow", key: keys.dispatches.recent, score: createdAt - ttlSeconds * 1000 },
    {
      op: "zadd",
      key: keys.dispatches.bySha(upstream.repo, upstream.sha),
      member: requestId,
      score: createdAt,
      ttlSeconds,
    },
    // Trimmed to the records' lifetime too: a downstream that keeps getting dispatches never lets it expire.
    {
      op: "zadd",
      key: keys.dispatches.byDownstream(record.downstream),
      member: requestId,
      score: createdAt,
      ttlSeconds,
    },
    { op: "zremBelow", key: keys.dispatches.byDownstream(record.downstream), score: createdAt - ttlSeconds * 1000 },
  ];
  if (upstream.prNumber !== null) {
    ops.push({
      op: "zadd",
      key: keys.dispatches.byPr(upstream.repo, upstream.prNumber),
      member: requestId,
      score: createdAt,
      ttlSeconds,
    });
  }
  return ops;
}

/** The record as text, for a write conditional on it (`writeIfDispatchIs`). */
export function readRawDispatch(store: Pick<Store, "get">, requestId: string): Promise<string | null> {
  return store.get(keys.dispatches.record(requestId));
}

/** Applies `ops` only if the dispatch's stored record is still `raw` (as read); true when applied. */
export function writeIfDispatchIs(
  store: Pick<Store, "writeIf">,
  requestId: string,
  raw: string | null,
  ops: WriteOp[],
): Promise<boolean> {
  return store.writeIf(keys.dispatches.record(requestId), raw, ops);
}

/** Replaces an existing record (its indexes stay as written). */
export function updatedDispatchOp(record: DispatchRecord): WriteOp {
  return {
    op: "set",
    key: keys.dispatches.record(record.requestId),
    value: JSON.stringify(record),
    ttlSeconds: RECORD_TTL_SECONDS,
  };
}

export function parseDispatchRecord(raw: string | null): DispatchRecord | null {
  return readRecord("dispatch", dispatchRecordSchema, raw);
}

export async function readDispatch(store: Pick<Store, "get">, requestId: string): Promise<DispatchRecord | null> {
  return parseDispatchRecord(await store.get(keys.dispatches.record(requestId)));
}

/** The records of `requestIds` that exist, in order. */
export async function readDispatches(store: Pick<Store, "getMany">, requestIds: string[]): Promise<DispatchRecord[]> {
  return (await readDispatchesAsStored(store, requestIds)).map(({ record }) => record);
}

/** A record with its text as read: what a write conditional on it (`writeIfDispatchIs`) compares. */
export interface StoredDispatch {
  record: DispatchRecord;
  raw: string;
}

/** The records of `requestIds` that exist, in order, each with its text. */
export async function readDispatchesAsStored(
  store: Pick<Store, "getMany">,
  requestIds: string[],
): Promise<StoredDispatch[]> {
  const stored: StoredDispatch[] = [];
  for (const raw of await store.getMany(requestIds.map(keys.dispatches.record))) {
    const record = parseDispatchRecord(raw);
    if (raw !== null && record !== null) stored.push({ record, raw });
  }
  return stored;
}

/** For each id, in order: its record, or null (absent, or no id). */
export async function readEachDispatch(
  store: Pick<Store, "getMany">,
  requestIds: (string | null)[],
): Promise<(DispatchRecord | null)[]> {
  const present = requestIds.filter((id): id is string => id !== null);
  const records = (await store.getMany(present.map(keys.dispatches.record))).map(parseDispatchRecord);
  return requestIds.map((id) => (id === null ? null : (records[present.indexOf(id)] ?? null)));
}

/** Request ids in an index, newest first, created between `min` and `max` (epoch ms). */
export async function listDispatchIds(
  store: Pick<Store, "rangeByScoreDesc">,
  index: DispatchIndex,
  limit: number,
  max = Infinity,
  min = -Infinity,
): Promise<string[]> {
  return store.rangeByScoreDesc(dispatchIndexKey(index), max, min, limit);
}

/** Records that a dispatch went out (a repository_dispatch or its job requests) at `sentAt`, on attempt `attempts`. */
export function markDispatched(store: Store, requestId: string, sentAt: number, attempts: number): Promise<void> {
  return updateDispatch(store, requestId, (record) => ({
    ...record,
    state: "dispatched",
    dispatchedAt: sentAt,
    lastError: null,
    attempts,
    nextAttemptAt: null,
  }));
}

/** Read-decide-write of one dispatch record, retried on contention; a record that is gone stays gone. */
export async function updateDispatch(
  store: Store,
  requestId: string,
  change: (record: DispatchRecord) => DispatchRecord,
): Promise<void> {
  await updateWithRetry(
    store,
    keys.dispatches.record(requestId),
    (current) => {
      const record = parseDispatchRecord(current);
      return { next: record ? JSON.stringify(change(record)) : undefined, result: undefined };
    },
    RECORD_TTL_SECONDS,
  );
}
