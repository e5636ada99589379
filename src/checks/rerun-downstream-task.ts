import type { Logger } from "pino";
import type { AppGitHub } from "../github/app-github";
import { OUTBOX_WRITE_WAIT_MS } from "../github/pace-writes";
import type { Task } from "../outbox/outbox";
import type { TaskContext, TaskHandler } from "../outbox/outbox-runner";
import type { TaskData } from "../outbox/task-data";

export const RERUN_TASK = "rerun-downstream";

/** `rerun-failed-jobs` for one check run, `rerun` for a whole suite (SPEC §3). */
export type RerunMode = TaskData[typeof RERUN_TASK]["mode"];

export interface RerunDownstreamDeps {
  github: AppGitHub;
  log: Logger;
}

/** Re-runs a known downstream run with a token scoped to that repository and `actions: write`. */
export function rerunDownstreamTask(deps: RerunDownstreamDeps): TaskHandler<typeof RERUN_TASK> {
  return {
    async run(task: Task<typeof RERUN_TASK>, context?: TaskContext) {
      const { downstream, mode } = task.data;
      const runId = Number(task.data.runId);
      const [owner, repo] = downstream.split("/");
      const octokit = await deps.github.forRepo(downstream, { actions: "write" });
      await octokit.request(`POST /repos/{owner}/{repo}/actions/runs/{run_id}/${mode}`, {
        owner,
        repo,
        run_id: runId,
        request: { signal: context?.signal, pacingWaitMs: OUTBOX_WRITE_WAIT_MS },
      });
      deps.log.info({ downstream, runId, mode }, "downstream run re-run");
    },
  };
}
