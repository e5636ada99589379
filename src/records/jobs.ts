import { z } from "zod";
import type { CountedWrite, Store, WindowLimit, WriteOp } from "../store/store";
import { RECORD_TTL_SECONDS } from "./dispatches";
import { keys } from "./keys";
import { readRecord } from "./read-record";

/**
 * The stored state of one downstream job (or, with scope "run", of the whole downstream run) for one
 * run attempt, indexed per dispatch (score: when the job was first heard of) so the dashboard and
 * the timeout sweep can find every job of a dispatch.
 */
export const jobRecordSchema = z.object({
  requestId: z.string(),
  scope: z.enum(["job", "run"]),
  /** null for scope "run" */
  jobName: z.string().nullable(),
  runId: z.string(),
  runAttempt: z.string(),
  state: z.enum(["IN_PROGRESS", "COMPLETED", "TIMED_OUT"]),
  conclusion: z.string().nullable(),
  detailsUrl: z.string().nullable(),
  workflowName: z.string().nullable(),
  /** the downstream's `workflow.check_run_id` as last reported (absent in records written before it was kept) */
  checkRunId: z.string().nullable().optional(),
  /** epoch ms of each accepted transition, null until it happened */
  inProgressAt: z.number().nullable(),
  completedAt: z.number().nullable(),
  queueTimeSeconds: z.number().nullable(),
  executionTimeSeconds: z.number().nullable(),
  updatedAt: z.number(),
});
export type JobRecord = z.infer<typeof jobRecordSchema>;

/** Identifies one job's state: run-scope reports share the reserved job name `__run__`. */
export interface JobKey {
  requestId: string;
  runId: string;
  runAttempt: string;
  scope: "job" | "run";
  jobName: string | null;
}

const RUN_JOB_NAME = "__run__";
export const JOB_TTL_SECONDS = RECORD_TTL_SECONDS;

/** Job names are free text: encoded so a `:` in one cannot make two keys collide. */
export function jobId({ requestId, runId, runAttempt, scope, jobName }: JobKey): string {
  const name = scope === "run" ? RUN_JOB_NAME : `job=${jobName ?? ""}`;
  return [requestId, runId, runAttempt, name].map(encodeURIComponent).join(":");
}

const jobRecordKey = (key: JobKey) => keys.jobs.record(jobId(key));

export function parseJobRecord(raw: string | null): JobRecord | null {
  return readRecord("job", jobRecordSchema, raw);
}

/** The stored state of a job as text, for a write conditional on it (`writeIfJobIs`). */
export function readRawJob(store: Pick<Store, "get">, key: JobKey): Promise<string | null> {
  return store.get(jobRecordKey(key));
}

/** Applies `ops` only if the job's stored state is still `raw` (as read); true when applied. */
export function writeIfJobIs(
  store: Pick<Store, "writeIf">,
  key: JobKey,
  raw: string | null,
  ops: WriteOp[],
): Promise<boolean> {
  return store.writeIf(jobRecordKey(key), raw, ops);
}

/** `writeIfJobIs` counting in `window` first (see `Store.countThenWriteIf`): one round trip for both. */
export function countThenWriteIfJobIs(
  store: Pick<Store, "countThenWriteIf">,
  window: WindowLimit,
  key: JobKey,
  raw: string | null,
  ops: WriteOp[],
): Promise<CountedWrite> {
  return store.countThenWriteIf(window, jobRecordKey(key), raw, ops);
}

export async function readJobById(store: Pick<Store, "get">, id: string): Promise<JobRecord | null> {
  return parseJobRecord(await store.get(keys.jobs.record(id)));
}

/** Up to `limit` jobs of a dispatch, the most recently heard of first. */
export async function readJobsOf(
  store: Pick<Store, "rangeByScoreDesc" | "getMany">,
  requestId: string,
  limit: number,
): Promise<JobRecord[]> {
  const ids = await store.rangeByScoreDesc(keys.jobs.ofDispatch(requestId), Infinity, -Infinity, limit);
  return (await store.getMany(ids.map(keys.jobs.record)))
    .map(parseJobRecord)
    .filter((record): record is JobRecord => record !== null);
}

/** Ops storing a job's new state and indexing it under its dispatch (once: first heard of). */
export function recordJobOps(key: JobKey, record: JobRecord, heardAt: number): WriteOp[] {
  return [
    { op: "set", key: jobRecordKey(key), value: JSON.stringify(record), ttlSeconds: JOB_TTL_SECONDS },
    {
      op: "zadd",
      key: keys.jobs.ofDispatch(key.requestId),
      member: jobId(key),
      score: heardAt,
      onlyIfAbsent: true,
      ttlSeconds: JOB_TTL_SECONDS,
    },
  ];
}
