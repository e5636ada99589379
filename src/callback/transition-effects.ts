import { checkRunOpsForTransition } from "../checks/check-run-effects";
import { CONFIG_DEFAULTS } from "../config/native-config";
import type { RelayConfig } from "../config/types";
import { sameRepo } from "../config/types";
import { hudTaskOps, type HudSettings } from "../hud/hud-task";
import type { Outbox } from "../outbox/outbox";
import type { WriteOp } from "../store/store";
import type { WorkflowReport } from "../jobs/workflow-report";
import { clearDeadlineOp, setDeadlineOp } from "../records/deadlines";
import { jobId } from "../records/jobs";
import type { JobTransition } from "../jobs/job-transition";

/** Effects are enqueued (outbox); the HUD settings say whether a HUD record is. */
export interface TransitionEffectsDeps {
  outbox: Outbox;
  env: HudSettings;
}

/**
 * Everything an accepted transition causes, written atomically with it: check runs, HUD, deadline.
 * `hud: false` for what the relay concludes from GitHub's own view of the run (`workflow_run`, all
 * declared jobs done): the HUD's rows are the downstream's jobs, which reported themselves.
 */
export function transitionEffects(
  relay: TransitionEffectsDeps,
  config: RelayConfig,
  transition: JobTransition,
  workflow: WorkflowReport | null,
  now: number,
  options: { hud: boolean } = { hud: true },
): WriteOp[] {
  return [
    ...checkRunOpsForTransition(relay, config, transition, now),
    ...(options.hud ? hudTaskOps(relay.outbox, relay.env, transition, workflow, now) : []),
    jobDeadlineOp(config, transition),
  ];
}

/** Starting a job sets its deadline; finishing or timing out clears it. Pure. */
function jobDeadlineOp(config: RelayConfig, transition: JobTransition): WriteOp {
  const member = jobId({ ...transition, requestId: transition.dispatch.requestId });
  if (transition.to !== "IN_PROGRESS") return clearDeadlineOp("jobs", member);
  const downstream = config.downstreams.find((d) => sameRepo(d.repo, transition.dispatch.downstream));
  // A downstream gone from the config since the dispatch times out after the default.
  const minutes = downstream?.jobTimeoutMinutes ?? CONFIG_DEFAULTS.jobTimeoutMinutes;
  return setDeadlineOp("jobs", member, transition.at + minutes * 60_000);
}
