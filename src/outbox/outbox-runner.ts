import type { Logger } from "pino";
import type { Metrics } from "../metrics/metrics";
import { retryDelayMs } from "./backoff";
import { classifyFailure, type FailureClass } from "./classify-failure";
import type { Outbox, OutboxTask } from "./outbox";

export interface TaskHandler {
  run(task: OutboxTask): Promise<void>;
  /** Records a final failure where users can see it (dispatch record, check run...). */
  giveUp?(task: OutboxTask, failure: FailureClass): Promise<void>;
  /**
   * Told when a failed run is scheduled to be retried: for metrics, and to record where users can
   * see it (a dispatch record's attempts, last error and next try). A failure here is only logged.
   */
  retrying?(task: OutboxTask, failure: FailureClass, next: { attempts: number; nextAttemptAt: number }): void | Promise<void>;
  /**
   * Retryable failures of this kind are given up once a task is this old, instead of the runner's
   * `giveUpAfterMs`: for work whose result must eventually show however long GitHub is unwell.
   */
  giveUpAfterMs?: number;
}

export interface OutboxRunnerOptions {
  outbox: Outbox;
  handlers: Record<string, TaskHandler>;
  log: Logger;
  metrics: Metrics;
  /** tasks in flight at once */
  concurrency: number;
  /** a claimed task is someone else's to retry after this long (its runner is presumed dead) */
  leaseMs: number;
  /** retryable failures are given up once a task is this old (unless its handler says otherwise) */
  giveUpAfterMs: number;
  /**
   * false on Lambda, where nothing may still run once an invocation has answered (the container is
   * frozen mid-task, its lease runs out, and another instance sends the same thing again): `kick()`
   * then does nothing and the handler calls `drain()` within its own time budget. Default true.
   */
  background?: boolean;
  now?: () => number;
}

/**
 * Performs outbox tasks with bounded concurrency. `kick()` after enqueueing gives low latency in a
 * long-lived server; `start()` adds a periodic sweep for work left behind by dead processes and for
 * retries; `drain()` is what a scheduled Lambda calls.
 */
export class OutboxRunner {
  private readonly now: () => number;
  private draining: Promise<number> | null = null;
  private rerun = false;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly options: OutboxRunnerOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Starts a drain soon, or makes the running one go round again; never throws. */
  kick(): void {
    if (this.options.background === false) return;
    if (this.draining) {
      this.rerun = true;
      return;
    }
    this.draining = this.drainLoop().finally(() => {
      this.draining = null;
    });
    this.draining.catch((error: unknown) => this.options.log.error({ err: error }, "outbox drain failed"));
  }

  /** Runs due tasks until none is due or `deadline` (epoch ms) passes; returns how many ran. */
  async drain(deadline = Number.POSITIVE_INFINITY): Promise<number> {
    let ran = 0;
    while (this.now() < deadline) {
      const tasks = await this.options.outbox.claim(this.now(), this.options.leaseMs, this.options.concurrency);
      if (tasks.length === 0) break;
      // Every task of the batch settles before drain answers: on Lambda nothing may run on after it.
      const results = await Promise.allSettled(tasks.map((task) => this.runOne(task)));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
      if (failed) throw failed.reason;
      ran += tasks.length;
    }
    return ran;
  }

  start(intervalMs: number): void {
    this.timer = setInterval(() => this.kick(), intervalMs);
    this.timer.unref();
    this.kick();
  }

  /** Stops the sweep and waits for the drain in progress. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.rerun = false;
    await this.draining?.catch(() => undefined);
  }

  private async drainLoop(): Promise<number> {
    let ran = 0;
    do {
      this.rerun = false;
      ran += await this.drain();
    } while (this.rerun);
    return ran;
  }

  private async runOne(task: OutboxTask): Promise<void> {
    const { outbox, handlers, log, metrics } = this.options;
    const handler = handlers[task.kind];
    if (!handler) {
      // Written by a newer version, or corrupted: keep it visible rather than retry forever.
      await outbox.bury(task, this.now(), `no handler for kind ${task.kind}`);
      log.error({ taskId: task.id, kind: task.kind }, "outbox task of unknown kind buried");
      return;
    }
    try {
      await handler.run(task);
      await outbox.complete(task);
      metrics.outboxTasks.inc({ kind: task.kind, outcome: "done" });
    } catch (error) {
      const failure = classifyFailure(error, this.now());
      const tooOld = this.now() - task.createdAt >= (handler.giveUpAfterMs ?? this.options.giveUpAfterMs);
      if (failure.retryable && !tooOld) {
        const dueAt = this.now() + retryDelayMs(task.attempts + 1, failure.retryAfterMs);
        await outbox.retryAt(task, dueAt, failure.summary);
        metrics.outboxTasks.inc({ kind: task.kind, outcome: "retry" });
        await (async () => handler.retrying?.(task, failure, { attempts: task.attempts + 1, nextAttemptAt: dueAt }))().catch((e: unknown) => log.error({ err: e, taskId: task.id }, "recording a retry failed"));
        log.warn({ taskId: task.id, kind: task.kind, attempt: task.attempts + 1, failure: failure.summary }, "outbox task will be retried");
        return;
      }
      await outbox.bury(task, this.now(), failure.summary);
      metrics.outboxTasks.inc({ kind: task.kind, outcome: "given_up" });
      log.error({ taskId: task.id, kind: task.kind, failure: failure.summary }, "outbox task given up");
      await handler.giveUp?.(task, failure).catch((e: unknown) => log.error({ err: e, taskId: task.id }, "recording a given-up task failed"));
    }
  }
}
