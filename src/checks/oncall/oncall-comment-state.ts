/**
 * checks/oncall/ owns the one oncall comment per upstream PR that notifies L3/L4 downstreams' owners:
 * when a check-run change asks for it, the task that keeps it current, and its rendering (pure).
 */
import { sameRepo, type RelayConfig } from "../../config/types";
import { installationLane } from "../../outbox/lanes";
import type { Outbox } from "../../outbox/outbox";
import type { TaskData } from "../../outbox/task-data";
import type { DispatchRecord } from "../../records/dispatches";
import type { WriteOp } from "../../store/store";

/**
 * SPEC §2 `notify: [comment]`: one comment per upstream PR, kept up to date by the oncall-comment
 * task (its records: records/oncall-comments.ts).
 */
export const ONCALL_COMMENT_TASK = "oncall-comment";

export type OncallCommentTaskData = TaskData[typeof ONCALL_COMMENT_TASK];

/** Whether this downstream's failures are commented on (a downstream since removed: no). Pure. */
export function notifiesByComment(config: Pick<RelayConfig, "downstreams">, downstream: string): boolean {
  return config.downstreams.some(
    (d) => sameRepo(d.repo, downstream) && d.notify.includes("comment") && (d.level === "L3" || d.level === "L4"),
  );
}

/**
 * Ops that schedule the PR's comment to follow this dispatch's per-downstream check, written with the
 * decision that changed it. Nothing for a push, or for a downstream that does not notify.
 */
export function oncallCommentOps(
  outbox: Outbox,
  config: Pick<RelayConfig, "downstreams">,
  record: Pick<DispatchRecord, "upstream" | "downstream">,
  now: number,
): WriteOp[] {
  const { repo, prNumber, sha } = record.upstream;
  if (prNumber === null || !notifiesByComment(config, record.downstream)) return [];
  const data: OncallCommentTaskData = { upstream: repo, prNumber, sha };
  // One task per PR in the upstream's lane: decisions that arrive before its turn coalesce into one
  // write (the outbox keeps the waiting task's place and re-runs a running one).
  const id = `${ONCALL_COMMENT_TASK}:${repo.toLowerCase()}#${prNumber}`;
  return outbox.enqueueOps({ id, kind: ONCALL_COMMENT_TASK, lane: installationLane(repo), data }, now);
}
