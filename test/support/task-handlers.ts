import type { Outbox, OutboxTask } from "../../src/outbox/outbox";
import type { TaskHandler, TaskHandlers } from "../../src/outbox/outbox-runner";
import type { NewTask, TaskKind } from "../../src/outbox/task-data";

/** A kind a test does not expect to run: running it fails the task loudly. */
const unexpected: TaskHandler<TaskKind> = {
  run: async (task) => {
    throw new Error(`unexpected task of kind ${task.kind} in this test`);
  },
};

/** A full handler table with the given handlers; every other kind refuses to run. */
export function handlersFor(handlers: Partial<TaskHandlers>): TaskHandlers {
  return {
    dispatch: unexpected,
    "enqueue-job": unexpected,
    hud: unexpected,
    "check-run": unexpected,
    "rerun-downstream": unexpected,
    "ciflow-labels": unexpected,
    "workflow-run": unexpected,
    "oncall-comment": unexpected,
    ...handlers,
  };
}

/**
 * Stores what another version of the app (or a corrupted store) may hold: a kind or data this
 * version's types refuse, which is why the cast is here and nowhere in src.
 */
export async function enqueueForeign(
  outbox: Outbox,
  task: Pick<OutboxTask, "id" | "kind" | "data">,
  now: number,
): Promise<void> {
  await outbox.enqueue(task as NewTask, now);
}
