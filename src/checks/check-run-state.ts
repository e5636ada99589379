/**
 * checks/ owns the upstream check runs (SPEC §3): their names, the wanted state each decision writes,
 * the tasks that make GitHub show it (sync, re-run, labels, workflow_run), and what a check-run
 * timeout decides. When timeouts are swept is src/timeouts/.
 */
import { installationLane } from "../outbox/lanes";
import type { Outbox } from "../outbox/outbox";
import { RECORD_TTL_SECONDS } from "../relay/dispatch-record";
import type { WriteOp } from "../store/store";
import { CHECK_CONCLUSIONS, type CheckConclusion } from "../github/check-conclusions";

/**
 * The state the app wants one upstream check run to have. Decisions (dispatch, callback transition,
 * label, supersede, timeout) only write this, atomically with whatever caused them, and enqueue a
 * sync task; the task makes GitHub match the *current* wanted state. So tasks that run late, twice
 * or out of order still leave GitHub showing the latest decision.
 */
export type CheckStatus = "queued" | "in_progress" | "completed";

/** A conclusion as a downstream sent it, if GitHub knows it; anything else shows as neutral. */
export function checkConclusion(value: string | null): CheckConclusion {
  return CHECK_CONCLUSIONS.find((c) => c === value) ?? "neutral";
}

export interface CheckRunState {
  requestId: string;
  /** config spelling */
  downstream: string;
  upstream: string;
  sha: string;
  name: string;
  externalId: string;
  /** per-job checks: the workflow and job; null for the per-downstream check */
  workflow: string | null;
  job: string | null;
  status: CheckStatus;
  /** set when completed */
  conclusion: CheckConclusion | null;
  /** the downstream run once known; null shows the dashboard */
  detailsUrl: string | null;
  title: string;
  summary: string;
  /** epoch ms of the decision */
  at: number;
}

/** The downstream run a dispatch started, as its callbacks report it (for re-runs and links). */
export interface DownstreamRun {
  runId: string;
  attempt: string;
  url: string | null;
}

export const CHECK_RUN_TASK = "check-run";

/** One check run is one (upstream repo, sha, name); the deadline set uses this as its member. */
export const checkKey = (upstream: string, sha: string, name: string) => `${upstream.toLowerCase()}:${sha}:${name}`;
export const wantedCheckKey = (key: string) => `relay:check:want:${key}`;
export const checkIdKey = (key: string) => `relay:check:id:${key}`;
/** set just before the app first asks GitHub to create the check run: only then can one exist whose id is not known */
export const checkCreatingKey = (key: string) => `relay:check:creating:${key}`;
export const checkLockKey = (key: string) => `relay:check:lock:${key}`;
/** names of every check run a dispatch has (for label back-fill, supersede and re-run) */
export const checkNamesKey = (requestId: string) => `relay:check:names:${requestId}`;
/** present when the dispatch's check runs are shown (L4, or L3 with its label) */
export const checksShownKey = (requestId: string) => `relay:check:shown:${requestId}`;
export const downstreamRunKey = (requestId: string) => `relay:check:run:${requestId}`;
/** the dispatch a downstream Actions run reports for, once a callback named the run (for `workflow_run`) */
export const runDispatchKey = (downstream: string, runId: string) => `relay:check:run-of:${downstream.toLowerCase()}:${runId}`;

/** Ops that make `state` the wanted state of its check run and schedule GitHub to follow. */
export function wantCheckRunOps(outbox: Outbox, state: CheckRunState, now: number): WriteOp[] {
  const key = checkKey(state.upstream, state.sha, state.name);
  return [
    { op: "set", key: wantedCheckKey(key), value: JSON.stringify(state), ttlSeconds: RECORD_TTL_SECONDS },
    { op: "zadd", key: checkNamesKey(state.requestId), member: state.name, score: state.at, ttlSeconds: RECORD_TTL_SECONDS },
    ...syncCheckRunOps(outbox, state, now),
  ];
}

/** Schedules GitHub to follow the wanted state already stored (after a label makes checks shown). */
export function syncCheckRunOps(outbox: Outbox, state: Pick<CheckRunState, "upstream" | "sha" | "name">, now: number): WriteOp[] {
  // One task per check run: decisions made before its turn coalesce into it (the task writes the
  // wanted state current when it runs), so they cost one write. A decision made while it runs makes
  // it run again (Outbox.complete), never lost.
  return outbox.enqueueOps(
    {
      id: `${CHECK_RUN_TASK}:${checkKey(state.upstream, state.sha, state.name)}`,
      kind: CHECK_RUN_TASK,
      lane: installationLane(state.upstream),
      data: { upstream: state.upstream, sha: state.sha, name: state.name },
    },
    now,
  );
}

export function parseCheckRunState(raw: string | null): CheckRunState | null {
  return raw === null ? null : (JSON.parse(raw) as CheckRunState);
}

export function isUnfinished(state: CheckRunState | null): state is CheckRunState {
  return state !== null && state.status !== "completed";
}

/** SPEC §3: a new head SHA ends the old SHA's unfinished check runs. Pure; null when already finished. */
export function supersededState(state: CheckRunState | null, now: number): CheckRunState | null {
  if (!isUnfinished(state)) return null;
  return { ...state, status: "completed", conclusion: "cancelled", title: "superseded", summary: "A newer commit was pushed to the pull request.", at: now };
}
