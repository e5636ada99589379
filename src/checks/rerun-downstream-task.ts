import type { Logger } from "pino";
import type { AppGitHub } from "../github/app-github";
import { OUTBOX_WRITE_WAIT_MS } from "../github/pace-writes";
import type { OutboxTask } from "../outbox/outbox";
import type { TaskContext, TaskHandler } from "../outbox/outbox-runner";

export const RERUN_TASK = "rerun-downstream";

/** `rerun-failed-jobs` for one check run, `rerun` for a whole suite (SPEC §3). */
export type RerunMode = "rerun" | "rerun-failed-jobs";

export interface RerunDownstreamDeps {
  github: AppGitHub;
  log: Logger;
}

/** Re-runs a known downstream run with a token scoped to that repository and `actions: write`. */
export function rerunDownstreamTask(deps: RerunDownstreamDeps): TaskHandler {
  return {
    async run(task: OutboxTask, context?: TaskContext) {
      const downstream = String(task.data.downstream);
      const runId = Number(task.data.runId);
      const mode = task.data.mode === "rerun" ? "rerun" : "rerun-failed-jobs";
      const [owner, repo] = downstream.split("/");
      const octokit = await deps.github.forRepo(downstream, { actions: "write" });
      await octokit.request(`POST /repos/{owner}/{repo}/actions/runs/{run_id}/${mode}`, { owner, repo, run_id: runId, request: { signal: context?.signal, pacingWaitMs: OUTBOX_WRITE_WAIT_MS } });
      deps.log.info({ downstream, runId, mode }, "downstream run re-run");
    },
  };
}
