import type { Logger } from "pino";
import { z } from "zod";
import type { ConfigSource } from "../config/config-source";
import type { AppGitHub } from "../github/app-github";
import type { Outbox, OutboxTask } from "../outbox/outbox";
import type { TaskHandler } from "../outbox/outbox-runner";
import type { UpstreamEvent } from "./upstream-event";
import type { Store, WriteOp } from "../store/store";
import { backfillLabelCheckRuns } from "../checks/backfill-label-check-runs";

export const CIFLOW_LABELS_TASK = "ciflow-labels";

/**
 * SPEC §3 ciflow tags: L3 label rules use PR #N's labels, which a tag push does not carry. They need a
 * GitHub read, and the webhook answer never waits on GitHub: the delivery stores this task (with its
 * dispatches, check runs not shown), and the task shows the check runs of each L3 downstream whose
 * device label PR #N carries. One task per delivery.
 */
export function ciflowLabelsTaskOps(outbox: Outbox, deliveryId: string, event: UpstreamEvent, now: number): WriteOp[] {
  if (event.event !== "push" || event.prNumber === null) return [];
  return outbox.enqueueOps(
    { id: `${CIFLOW_LABELS_TASK}:${deliveryId}`, kind: CIFLOW_LABELS_TASK, data: { repo: event.repo, prNumber: event.prNumber, sha: event.sha } },
    now,
  );
}

export interface CiflowLabelsDeps {
  store: Store;
  outbox: Outbox;
  github: AppGitHub;
  config: Pick<ConfigSource, "get">;
  log: Logger;
  now?: () => number;
}

const issueLabels = z.object({ labels: z.array(z.union([z.string(), z.object({ name: z.string().nullish() })])) });

export function ciflowLabelsTask(deps: CiflowLabelsDeps): TaskHandler {
  return {
    async run(task: OutboxTask) {
      const repo = String(task.data.repo);
      const number = Number(task.data.prNumber);
      const sha = String(task.data.sha);
      const config = await deps.config.get();
      if (config === null) throw new Error("relay config not loaded yet");
      const [owner, name] = repo.split("/");
      const octokit = await deps.github.forRepo(repo, { issues: "read" });
      const { data } = await octokit.request("GET /repos/{owner}/{repo}/issues/{issue_number}", { owner, repo: name, issue_number: number });
      const labels = issueLabels.parse(data).labels.map((label) => (typeof label === "string" ? label : (label.name ?? "")));
      let shown = 0;
      for (const label of labels) {
        shown += await backfillLabelCheckRuns(deps, config, { repo, number, sha }, label, deps.now?.() ?? Date.now());
      }
      deps.log.debug({ repo, prNumber: number, sha, shown }, "ciflow tag: label rules applied from the pull request");
    },
  };
}
