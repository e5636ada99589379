/**
 * checks/ owns the upstream check runs (SPEC §3): their names, the wanted state each decision writes,
 * the tasks that make GitHub show it (sync, re-run, labels, workflow_run), and what a check-run
 * timeout decides. When timeouts are swept is src/timeouts/.
 */
import { installationLane } from "../outbox/lanes";
import type { Outbox } from "../outbox/outbox";
import { checkKey, wantedCheckRunOps, type CheckRunState } from "../records/check-runs";
import type { WriteOp } from "../store/store";
import { CHECK_CONCLUSIONS, type CheckConclusion } from "../vocabulary/check-conclusions";

/**
 * The state the app wants one upstream check run to have. Decisions (dispatch, callback transition,
 * label, supersede, timeout) only write this, atomically with whatever caused them, and enqueue a
 * sync task; the task makes GitHub match the *current* wanted state. So tasks that run late, twice
 * or out of order still leave GitHub showing the latest decision.
 */

/** A conclusion as a downstream sent it, if GitHub knows it; anything else shows as neutral. */
export function checkConclusion(value: string | null): CheckConclusion {
  return CHECK_CONCLUSIONS.find((c) => c === value) ?? "neutral";
}

export const CHECK_RUN_TASK = "check-run";

/** Ops that make `state` the wanted state of its check run and schedule GitHub to follow. */
export function wantCheckRunOps(outbox: Outbox, state: CheckRunState, now: number): WriteOp[] {
  return [...wantedCheckRunOps(state), ...syncCheckRunOps(outbox, state, now)];
}

/** Schedules GitHub to follow the wanted state already stored (after a label makes checks shown). */
export function syncCheckRunOps(
  outbox: Outbox,
  state: Pick<CheckRunState, "upstream" | "sha" | "name">,
  now: number,
): WriteOp[] {
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

export function isUnfinished(state: CheckRunState | null): state is CheckRunState {
  return state !== null && state.status !== "completed";
}

/** SPEC §3: a new head SHA ends the old SHA's unfinished check runs. Pure; null when already finished. */
export function supersededState(state: CheckRunState | null, now: number): CheckRunState | null {
  if (!isUnfinished(state)) return null;
  return {
    ...state,
    status: "completed",
    conclusion: "cancelled",
    title: "superseded",
    summary: "A newer commit was pushed to the pull request.",
    at: now,
  };
}
