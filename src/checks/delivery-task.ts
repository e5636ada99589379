import type { Logger } from "pino";
import type { ConfigSource } from "../config/config-source";
import type { RelayConfig } from "../config/types";
import type { AppGitHub } from "../github/app-github";
import type { Outbox, Task } from "../outbox/outbox";
import type { TaskHandler } from "../outbox/outbox-runner";
import type { TaskData, TaskKind } from "../outbox/task-data";
import type { Store, WriteOp } from "../store/store";

/**
 * The shape of the tasks a webhook delivery stores for check-run work its answer must not wait on (a
 * GitHub read, the relay config): one task per delivery, run later with the relay config and the
 * clock. Each such task (ciflow-labels-task.ts, workflow-run-task.ts) says only what it carries and does.
 */
export interface DeliveryTaskDeps {
  store: Store;
  outbox: Outbox;
  github: AppGitHub;
  config: Pick<ConfigSource, "get">;
  log: Logger;
  now?: () => number;
}

/** What a delivery task's work is handed. */
export interface DeliveryTaskRun<K extends TaskKind> {
  task: Task<K>;
  /** the relay config; throws (so the task is retried) until it is first loaded */
  config(): Promise<RelayConfig>;
  now(): number;
}

/** The delivery's task of this kind: its id names the delivery, so a redelivery cannot double it. */
export function deliveryTaskOps<K extends TaskKind>(
  outbox: Outbox,
  kind: K,
  deliveryId: string,
  data: TaskData[K],
  now: number,
): WriteOp[] {
  return outbox.enqueueOps({ id: `${kind}:${deliveryId}`, kind, data }, now);
}

export function deliveryTask<K extends TaskKind>(
  deps: DeliveryTaskDeps,
  work: (run: DeliveryTaskRun<K>) => Promise<void>,
): TaskHandler<K> {
  const config = async () => {
    const loaded = await deps.config.get();
    if (loaded === null) throw new Error("relay config not loaded yet");
    return loaded;
  };
  const now = () => deps.now?.() ?? Date.now();
  return { run: (task) => work({ task, config, now }) };
}
