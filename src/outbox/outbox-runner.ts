import type { Logger } from "pino";
import type { Metrics } from "../metrics/metrics";
import { retryDelayMs } from "./backoff";
import { classifyFailure, type FailureClass } from "./classify-failure";
import { deferralOf } from "./deferral";
import { LeaseKeeper } from "./lease-keeper";
import type { Outbox, OutboxTask, Task, TaskLease } from "./outbox";
import { isTaskKind, parseTaskData, type TaskKind } from "./task-data";

export interface TaskContext {
  /**
   * Aborted when the task must stop where it is: the process is shutting down, the task ran past
   * its time limit, or its lease went to another process. Pass it to GitHub and HTTP calls so that
   * nothing new is sent after that; the runner stops waiting for the task shortly after either way.
   */
  signal: AbortSignal;
}

/** Performs tasks of one kind, given their data as that kind's schema (task-data.ts) says. */
export interface TaskHandler<K extends TaskKind> {
  run(task: Task<K>, context?: TaskContext): Promise<void>;
  /** Records a final failure where users can see it (dispatch record, check run...). */
  giveUp?(task: Task<K>, failure: FailureClass): Promise<void>;
  /**
   * Told when a failed run is scheduled to be retried: for metrics, and to record where users can
   * see it (a dispatch record's attempts, last error and next try). A failure here is only logged.
   */
  retrying?(
    task: Task<K>,
    failure: FailureClass,
    next: { attempts: number; nextAttemptAt: number },
  ): void | Promise<void>;
  /**
   * Retryable failures of this kind are given up once a task is this old, instead of the runner's
   * `giveUpAfterMs`: for work whose result must eventually show however long GitHub is unwell.
   */
  giveUpAfterMs?: number;
}

/** One handler for every kind: the compiler refuses a table that misses one. */
export type TaskHandlers = { [K in TaskKind]: TaskHandler<K> };

export interface OutboxRunnerOptions {
  outbox: Outbox;
  handlers: TaskHandlers;
  log: Logger;
  metrics: Metrics;
  /** tasks in flight at once */
  concurrency: number;
  /**
   * A claimed task is someone else's to run once its lease lapses (its runner is presumed dead).
   * Renewed every third of this while the task runs, so it can be short whatever the task's length.
   */
  leaseMs: number;
  /** a task still running after this is presumed stuck: aborted and retried later (default 120 s) */
  taskTimeLimitMs?: number;
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

/** What a running task's abort means, so its outcome is dealt with accordingly. */
type AbortReason = "stopping" | "time-limit" | "lease-lost";

type TaskOutcome = { kind: "done" } | { kind: "failed"; error: unknown } | { kind: "abandoned" };

const DEFAULT_TASK_TIME_LIMIT_MS = 120_000;
/** A task this version cannot read (unknown kind, data not of its kind) is offered again this much later. */
const UNREADABLE_RETRY_MS = 60_000;
/** How long `stop()` lets tasks in flight finish before it aborts them. */
const STOP_GRACE_MS = 3_000;
/** How long an aborted task gets to settle (aborted requests reject at once) before it is left behind. */
const ABORT_SETTLE_MS = 1_000;

/**
 * Performs outbox tasks with bounded concurrency. `kick()` after enqueueing gives low latency in a
 * long-lived server; `start()` adds a periodic sweep for work left behind by dead processes and for
 * retries; `drain()` is what a scheduled Lambda calls; `stop()` is a server's shutdown.
 */
export class OutboxRunner {
  private readonly now: () => number;
  private draining: Promise<number> | null = null;
  private rerun = false;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  /** Aborted by `stop()` once the grace is over: every task in flight is told to stop. */
  private stopping = new AbortController();
  /**
   * When tasks deferred for a write slot are due again (each lane waits until its latest one), and
   * the kick set for the earliest.
   */
  private deferrals = new Set<number>();
  private wakeTimer: { at: number; timer: NodeJS.Timeout } | null = null;

  private readonly taskTimeLimitMs: number;

  constructor(private readonly options: OutboxRunnerOptions) {
    this.now = options.now ?? Date.now;
    this.taskTimeLimitMs = options.taskTimeLimitMs ?? DEFAULT_TASK_TIME_LIMIT_MS;
  }

  /** Starts a drain soon, or makes the running one go round again; never throws. */
  kick(): void {
    if (this.options.background === false || this.stopped) return;
    if (this.draining) {
      this.rerun = true;
      return;
    }
    this.draining = this.drainLoop().finally(() => {
      this.draining = null;
    });
    this.draining.catch((error: unknown) => {
      // During an outage the store has said so once; a failed drain every few seconds adds nothing.
      if (this.options.outbox.reachable()) this.options.log.error({ err: error }, "outbox drain failed");
    });
  }

  /**
   * Runs due tasks until none is due or `deadline` (epoch ms) passes; returns how many ran. Tasks
   * deferred for a write slot before the deadline are waited for (a Lambda's drain, a test's settle).
   */
  async drain(deadline = Number.POSITIVE_INFINITY): Promise<number> {
    let ran = 0;
    for (;;) {
      // A deferral due by now is seen by this round's claims; one that comes due during the round
      // (after its last claim found nothing) is not, and is waited for once more, not forgotten.
      const roundStart = this.now();
      ran += await this.drainWhile(() => this.now() < deadline);
      // Deferred by this drain or an earlier one (a background drain this one follows).
      const next = this.nextDeferral(roundStart);
      if (next === null || next >= deadline) return ran;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, next - this.now())));
    }
  }

  start(intervalMs: number): void {
    this.timer = setInterval(() => this.kick(), intervalMs);
    this.timer.unref();
    this.kick();
  }

  /**
   * Shutdown: the background drain claims nothing more, at once (kick and the sweep do nothing
   * after; an explicit `drain()` still runs); lets tasks in flight finish for up to `graceMs`, then
   * aborts them (GitHub waits and requests included) and hands their leases back so another process
   * takes them up right away. Resolves once nothing of the runner is left running or waiting on the
   * store, so the store can be closed after.
   */
  async stop(graceMs = STOP_GRACE_MS): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.wakeTimer) clearTimeout(this.wakeTimer.timer);
    this.wakeTimer = null;
    this.rerun = false;
    const draining = this.draining?.catch(() => undefined);
    if (!draining) return;
    let graceTimer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<"grace-over">((resolve) => {
      graceTimer = setTimeout(() => resolve("grace-over"), graceMs);
    });
    const first = await Promise.race([draining, graceOver]);
    clearTimeout(graceTimer);
    if (first === "grace-over") this.stopping.abort("stopping" satisfies AbortReason);
    await draining;
    // What an explicit drain() runs after this (a test, a last drain) starts unaborted.
    this.stopping = new AbortController();
  }

  /** The background drain (kick, start): what stop() ends, claiming nothing once it is called. */
  private async drainLoop(): Promise<number> {
    let ran = 0;
    do {
      this.rerun = false;
      ran += await this.drainWhile(() => !this.stopped);
    } while (this.rerun && !this.stopped);
    return ran;
  }

  private async drainWhile(go: () => boolean): Promise<number> {
    let ran = 0;
    while (go()) {
      const leases = await this.options.outbox.claim(this.now(), this.options.leaseMs, this.options.concurrency);
      if (leases.length === 0) break;
      // Every task of the batch settles before drain answers: on Lambda nothing may run on after it.
      const results = await Promise.allSettled(leases.map((lease) => this.runOne(lease)));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
      if (failed) throw failed.reason;
      ran += leases.length;
    }
    return ran;
  }

  private async runOne(lease: TaskLease): Promise<void> {
    const { kind } = lease.task;
    if (!isTaskKind(kind)) {
      await this.unreadable(lease.task, `no handler for kind ${kind} in this version`);
      return;
    }
    await this.runKind(lease, kind);
  }

  /**
   * Written by a newer version (a rolling deploy: an instance that knows the task takes it up
   * meanwhile), or corrupted: left due for a while, then kept visible rather than retried forever.
   */
  private async unreadable(task: OutboxTask, summary: string): Promise<void> {
    const { outbox, log } = this.options;
    if (this.now() - task.createdAt < this.options.giveUpAfterMs) {
      await outbox.retryAt(task, this.now() + UNREADABLE_RETRY_MS, summary);
      log.warn(
        { taskId: task.id, kind: task.kind, reason: summary },
        "outbox task this version cannot read left for an instance that can",
      );
      return;
    }
    await outbox.bury(task, this.now(), summary);
    log.error({ taskId: task.id, kind: task.kind, reason: summary }, "outbox task this version cannot read buried");
  }

  /** Generic in the kind, so the compiler matches the handler taken from the table with the task's data. */
  private async runKind<K extends TaskKind>(lease: TaskLease, kind: K): Promise<void> {
    const { outbox, log } = this.options;
    const parsed = parseTaskData(kind, lease.task.data);
    if (!parsed.ok) {
      await this.unreadable(lease.task, `data not of kind ${kind}: ${parsed.error}`);
      return;
    }
    const task: Task<K> = { ...lease.task, kind, data: parsed.data };
    const handler: TaskHandler<K> = this.options.handlers[kind];
    const abort = new AbortController();
    const stopTask = (reason: AbortReason) => abort.abort(reason);
    const onStopping = () => stopTask("stopping");
    if (this.stopping.signal.aborted) onStopping();
    else this.stopping.signal.addEventListener("abort", onStopping, { once: true });
    const timeLimit = setTimeout(() => stopTask("time-limit"), this.taskTimeLimitMs);
    const keeper = new LeaseKeeper({
      outbox,
      lease,
      leaseMs: this.options.leaseMs,
      now: this.now,
      onLost: () => stopTask("lease-lost"),
      onError: (error) => {
        if (outbox.reachable()) log.warn({ taskId: task.id, err: error }, "outbox lease renewal failed; trying again");
      },
    });
    let outcome: TaskOutcome;
    try {
      outcome = await settleUnlessAborted(() => handler.run(task, { signal: abort.signal }), abort.signal);
    } finally {
      clearTimeout(timeLimit);
      this.stopping.signal.removeEventListener("abort", onStopping);
    }
    const held = await keeper.stop();
    const reason = abort.signal.aborted ? (abort.signal.reason as AbortReason) : null;

    if (outcome.kind === "done") {
      await outbox.complete(held ?? lease, this.now());
      this.options.metrics.outboxTasks.inc({ kind: task.kind, outcome: "done" });
      return;
    }
    if (reason === "lease-lost") {
      // Another process holds the task now and runs it: nothing here is ours to record.
      log.warn({ taskId: task.id, kind: task.kind }, "outbox task lease lost to another process; left to it");
      return;
    }
    if (reason === "stopping") {
      // Not a failure of the task: quietly due again at once for whoever runs next.
      if (held) await outbox.release(held, this.now()).catch(() => false);
      return;
    }
    const stuck = new Error(`outbox task still running after ${this.taskTimeLimitMs / 1000} s`);
    await this.failed(task, handler, outcome.kind === "failed" && reason !== "time-limit" ? outcome.error : stuck);
  }

  /**
   * A deferred task is due at its slot, not at the next sweep: the background drain is kicked then
   * (one timer, for the earliest), and an explicit drain waits for it (see drain()).
   */
  private wakeAt(dueAt: number): void {
    this.deferrals.add(dueAt);
    this.armWakeTimer();
  }

  /**
   * The earliest deferral after `claimedAt`. Those due by then are forgotten: a claim made at or
   * after `claimedAt` saw them due (by default now: the wake timer's kick claims after it looks).
   */
  private nextDeferral(claimedAt = this.now()): number | null {
    let next: number | null = null;
    for (const at of this.deferrals) {
      if (at <= claimedAt) this.deferrals.delete(at);
      else if (next === null || at < next) next = at;
    }
    return next;
  }

  private armWakeTimer(): void {
    if (this.options.background === false || this.stopped) return;
    const next = this.nextDeferral();
    if (next === null || (this.wakeTimer && this.wakeTimer.at <= next)) return;
    if (this.wakeTimer) clearTimeout(this.wakeTimer.timer);
    const timer = setTimeout(
      () => {
        this.wakeTimer = null;
        this.kick();
        this.armWakeTimer();
      },
      Math.max(0, next - this.now()),
    );
    timer.unref();
    this.wakeTimer = { at: next, timer };
  }

  private async failed<K extends TaskKind>(task: Task<K>, handler: TaskHandler<K>, error: unknown): Promise<void> {
    const { outbox, log, metrics } = this.options;
    const deferMs = deferralOf(error);
    if (deferMs !== null) {
      // Waiting for its installation's write slot: not an attempt, no backoff, never a reason to give up.
      const dueAt = this.now() + deferMs;
      await outbox.defer(task, this.now(), dueAt);
      this.wakeAt(dueAt);
      metrics.outboxTasks.inc({ kind: task.kind, outcome: "deferred" });
      log.debug({ taskId: task.id, kind: task.kind, deferMs }, "outbox task waits for its write slot");
      return;
    }
    const failure = classifyFailure(error, this.now());
    // Time spent rescheduled for write slots is the pacing's, not GitHub being unwell.
    const age = this.now() - task.createdAt - (task.deferredMs ?? 0);
    const tooOld = age >= (handler.giveUpAfterMs ?? this.options.giveUpAfterMs);
    if (failure.retryable && !tooOld) {
      const dueAt = this.now() + retryDelayMs(task.attempts + 1, failure.retryAfterMs);
      await outbox.retryAt(task, dueAt, failure.summary);
      metrics.outboxTasks.inc({ kind: task.kind, outcome: "retry" });
      await (async () =>
        handler.retrying?.(task, failure, { attempts: task.attempts + 1, nextAttemptAt: dueAt }))().catch(
        (e: unknown) => log.error({ err: e, taskId: task.id }, "recording a retry failed"),
      );
      log.warn(
        { taskId: task.id, kind: task.kind, attempt: task.attempts + 1, failure: failure.summary },
        "outbox task will be retried",
      );
      return;
    }
    await outbox.bury(task, this.now(), failure.summary);
    metrics.outboxTasks.inc({ kind: task.kind, outcome: "given_up" });
    log.error({ taskId: task.id, kind: task.kind, failure: failure.summary }, "outbox task given up");
    await handler
      .giveUp?.(task, failure)
      .catch((e: unknown) => log.error({ err: e, taskId: task.id }, "recording a given-up task failed"));
  }
}

/**
 * Runs `work` to its end, unless `signal` aborts first: then it gets `ABORT_SETTLE_MS` more (an
 * aborted request rejects at once) and is otherwise left behind, "abandoned": a retry-plugin sleep or
 * a token mint that ignores the signal must not hold a shutdown.
 */
async function settleUnlessAborted(work: () => Promise<void>, signal: AbortSignal): Promise<TaskOutcome> {
  const settled: Promise<TaskOutcome> = work().then(
    () => ({ kind: "done" }),
    (error: unknown) => ({ kind: "failed", error }),
  );
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<"aborted">((resolve) => {
    onAbort = () => resolve("aborted");
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  });
  const first = await Promise.race([settled, aborted]);
  if (onAbort) signal.removeEventListener("abort", onAbort);
  if (first !== "aborted") return first;
  let settleTimer: NodeJS.Timeout | undefined;
  const leftBehind = new Promise<TaskOutcome>((resolve) => {
    settleTimer = setTimeout(() => resolve({ kind: "abandoned" }), ABORT_SETTLE_MS);
  });
  const outcome = await Promise.race([settled, leftBehind]);
  clearTimeout(settleTimer);
  return outcome;
}
