import { z } from "zod";
import type { Outbox } from "../outbox/outbox";
import type { TaskHandler } from "../outbox/outbox-runner";
import type { UpstreamEvent } from "./upstream-event";
import type { WriteOp } from "../store/store";
import { backfillLabelCheckRuns } from "../checks/backfill-label-check-runs";
import { deliveryTask, deliveryTaskOps, type DeliveryTaskDeps } from "../checks/delivery-task";

export const CIFLOW_LABELS_TASK = "ciflow-labels";

/**
 * SPEC §3 ciflow tags: L3 label rules use PR #N's labels, which a tag push does not carry. They need a
 * GitHub read, and the webhook answer never waits on GitHub: the delivery stores this task (with its
 * dispatches, check runs not shown), and the task shows the check runs of each L3 downstream whose
 * device label PR #N carries. One task per delivery.
 */
export function ciflowLabelsTaskOps(outbox: Outbox, deliveryId: string, event: UpstreamEvent, now: number): WriteOp[] {
  if (event.event !== "push" || event.prNumber === null) return [];
  return deliveryTaskOps(
    outbox,
    CIFLOW_LABELS_TASK,
    deliveryId,
    { repo: event.repo, prNumber: event.prNumber, sha: event.sha },
    now,
  );
}

const issueLabels = z.object({ labels: z.array(z.union([z.string(), z.object({ name: z.string().nullish() })])) });

export function ciflowLabelsTask(deps: DeliveryTaskDeps): TaskHandler<typeof CIFLOW_LABELS_TASK> {
  return deliveryTask(deps, async ({ task, config, now }) => {
    const { repo, prNumber: number, sha } = task.data;
    const relayConfig = await config();
    const [owner, name] = repo.split("/");
    const octokit = await deps.github.forRepo(repo, { issues: "read" });
    const { data } = await octokit.request("GET /repos/{owner}/{repo}/issues/{issue_number}", {
      owner,
      repo: name,
      issue_number: number,
    });
    const labels = issueLabels
      .parse(data)
      .labels.map((label) => (typeof label === "string" ? label : (label.name ?? "")));
    let shown = 0;
    for (const label of labels) {
      shown += await backfillLabelCheckRuns(deps, relayConfig, { repo, number, sha }, label, now());
    }
    deps.log.debug({ repo, prNumber: number, sha, shown }, "ciflow tag: label rules applied from the pull request");
  });
}
