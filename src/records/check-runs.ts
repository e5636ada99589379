import { z } from "zod";
import { CHECK_CONCLUSIONS } from "../vocabulary/check-conclusions";
import type { Store, WriteOp } from "../store/store";
import { RECORD_TTL_SECONDS } from "./dispatches";
import { keys } from "./keys";
import { readRecord } from "./read-record";

/**
 * Check-run records: the state the app wants each upstream check run to have (see
 * checks/check-run-state.ts for why decisions write only this), the GitHub check run it was last
 * written to, and per dispatch: its check names, whether they are shown, and its downstream run.
 */
export const CHECK_STATUSES = ["queued", "in_progress", "completed"] as const;
export type CheckStatus = (typeof CHECK_STATUSES)[number];

export const checkRunStateSchema = z.object({
  requestId: z.string(),
  /** config spelling */
  downstream: z.string(),
  upstream: z.string(),
  sha: z.string(),
  name: z.string(),
  externalId: z.string(),
  /** per-job checks: the workflow and job; null for the per-downstream check */
  workflow: z.string().nullable(),
  job: z.string().nullable(),
  status: z.enum(CHECK_STATUSES),
  /** set when completed */
  conclusion: z.enum(CHECK_CONCLUSIONS).nullable(),
  /** the downstream run once known; null shows the dashboard */
  detailsUrl: z.string().nullable(),
  title: z.string(),
  summary: z.string(),
  /** epoch ms of the decision */
  at: z.number(),
});
export type CheckRunState = z.infer<typeof checkRunStateSchema>;

/** The downstream run a dispatch started, as its callbacks report it (for re-runs and links). */
export const downstreamRunSchema = z.object({ runId: z.string(), attempt: z.string(), url: z.string().nullable() });
export type DownstreamRun = z.infer<typeof downstreamRunSchema>;

/** The GitHub check run a wanted state was last written to. */
export const knownCheckRunSchema = z.object({ id: z.number(), completed: z.boolean() });
export type KnownCheckRun = z.infer<typeof knownCheckRunSchema>;

/** One check run is one (upstream repo, sha, name); the deadline set uses this as its member. */
export const checkKey = (upstream: string, sha: string, name: string) => `${upstream.toLowerCase()}:${sha}:${name}`;
export const checkKeyOf = (check: Pick<CheckRunState, "upstream" | "sha" | "name">) =>
  checkKey(check.upstream, check.sha, check.name);

/** The wanted state as text, for a write conditional on it (`writeIfWantedCheckRunIs`). */
export function readRawWantedCheckRun(store: Pick<Store, "get">, key: string): Promise<string | null> {
  return store.get(keys.checkRuns.wanted(key));
}

/** Applies `ops` only if the check run's wanted state is still `raw` (as read); true when applied. */
export function writeIfWantedCheckRunIs(
  store: Pick<Store, "writeIf">,
  key: string,
  raw: string | null,
  ops: WriteOp[],
): Promise<boolean> {
  return store.writeIf(keys.checkRuns.wanted(key), raw, ops);
}

export function parseCheckRunState(raw: string | null): CheckRunState | null {
  return readRecord("check run", checkRunStateSchema, raw);
}

export async function readWantedCheckRun(store: Pick<Store, "get">, key: string): Promise<CheckRunState | null> {
  return parseCheckRunState(await readRawWantedCheckRun(store, key));
}

/** For each check key, in order: its wanted state, or null. */
export async function readWantedCheckRuns(
  store: Pick<Store, "getMany">,
  checkKeys: string[],
): Promise<(CheckRunState | null)[]> {
  return (await store.getMany(checkKeys.map(keys.checkRuns.wanted))).map(parseCheckRunState);
}

/** Ops making `state` its check run's wanted state and naming it among its dispatch's checks. */
export function wantedCheckRunOps(state: CheckRunState): WriteOp[] {
  return [
    {
      op: "set",
      key: keys.checkRuns.wanted(checkKeyOf(state)),
      value: JSON.stringify(state),
      ttlSeconds: RECORD_TTL_SECONDS,
    },
    {
      op: "zadd",
      key: keys.checkRuns.names(state.requestId),
      member: state.name,
      score: state.at,
      ttlSeconds: RECORD_TTL_SECONDS,
    },
  ];
}

/** The names of up to `limit` check runs a dispatch has (shown or not). */
export function readCheckNames(
  store: Pick<Store, "rangeByScoreDesc">,
  requestId: string,
  limit: number,
): Promise<string[]> {
  return store.rangeByScoreDesc(keys.checkRuns.names(requestId), Infinity, -Infinity, limit);
}

/** Marks a dispatch's check runs as shown (L4, or L3 with its label). */
export function checksShownOp(requestId: string): WriteOp {
  return { op: "set", key: keys.checkRuns.shown(requestId), value: "1", ttlSeconds: RECORD_TTL_SECONDS };
}

export async function areChecksShown(store: Pick<Store, "get">, requestId: string): Promise<boolean> {
  return (await store.get(keys.checkRuns.shown(requestId))) !== null;
}

/** For each request id, in order: are its check runs shown. */
export async function areChecksShownMany(store: Pick<Store, "getMany">, requestIds: string[]): Promise<boolean[]> {
  return (await store.getMany(requestIds.map(keys.checkRuns.shown))).map((value) => value !== null);
}

/**
 * Ops remembering the downstream run a callback named, and for an Actions run (`linkRun`) which
 * dispatch it reports for, so its `workflow_run` webhooks lead back to the dispatch.
 */
export function downstreamRunOps(
  requestId: string,
  downstream: string,
  run: DownstreamRun,
  linkRun: boolean,
): WriteOp[] {
  const ops: WriteOp[] = [
    {
      op: "set",
      key: keys.checkRuns.downstreamRun(requestId),
      value: JSON.stringify(run),
      ttlSeconds: RECORD_TTL_SECONDS,
    },
  ];
  if (linkRun)
    ops.push({
      op: "set",
      key: keys.checkRuns.dispatchOfRun(downstream, run.runId),
      value: requestId,
      ttlSeconds: RECORD_TTL_SECONDS,
    });
  return ops;
}

export function parseDownstreamRun(raw: string | null): DownstreamRun | null {
  return readRecord("downstream run", downstreamRunSchema, raw);
}

export async function readDownstreamRun(store: Pick<Store, "get">, requestId: string): Promise<DownstreamRun | null> {
  return parseDownstreamRun(await store.get(keys.checkRuns.downstreamRun(requestId)));
}

/** For each request id, in order: its downstream run, or null. */
export async function readDownstreamRuns(
  store: Pick<Store, "getMany">,
  requestIds: string[],
): Promise<(DownstreamRun | null)[]> {
  return (await store.getMany(requestIds.map(keys.checkRuns.downstreamRun))).map(parseDownstreamRun);
}

/** The dispatch an Actions run of `downstream` reports for; null until a callback named the run. */
export function readDispatchOfRun(
  store: Pick<Store, "get">,
  downstream: string,
  runId: string,
): Promise<string | null> {
  return store.get(keys.checkRuns.dispatchOfRun(downstream, runId));
}

export async function readKnownCheckRun(store: Pick<Store, "get">, key: string): Promise<KnownCheckRun | null> {
  return readRecord("known check run", knownCheckRunSchema, await store.get(keys.checkRuns.known(key)));
}

/**
 * Marks the first attempt to create a check run on GitHub, just before it asks: only after such an
 * attempt can a check run exist whose id is not known. True for the first attempt.
 */
export function markCheckRunCreating(store: Pick<Store, "setIfAbsent">, key: string): Promise<boolean> {
  return store.setIfAbsent(keys.checkRuns.creating(key), "1", RECORD_TTL_SECONDS);
}

/** The first create attempt was never sent (put off for its write slot): the next needs no look-up either. */
export async function unmarkCheckRunCreating(store: Pick<Store, "write">, key: string): Promise<void> {
  await store.write([{ op: "del", key: keys.checkRuns.creating(key) }]);
}

export async function storeKnownCheckRun(
  store: Pick<Store, "write">,
  key: string,
  known: KnownCheckRun,
): Promise<void> {
  await store.write([
    { op: "set", key: keys.checkRuns.known(key), value: JSON.stringify(known), ttlSeconds: RECORD_TTL_SECONDS },
  ]);
}

/** One writer per check run at a time: true when `holder` took the lease. */
export function lockCheckRun(
  store: Pick<Store, "setIfAbsent">,
  key: string,
  holder: string,
  leaseSeconds: number,
): Promise<boolean> {
  return store.setIfAbsent(keys.checkRuns.lock(key), holder, leaseSeconds);
}

/** Releases the lease if `holder` still has it. */
export async function unlockCheckRun(store: Pick<Store, "writeIf">, key: string, holder: string): Promise<void> {
  await store.writeIf(keys.checkRuns.lock(key), holder, [{ op: "del", key: keys.checkRuns.lock(key) }]);
}
