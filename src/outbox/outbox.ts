/**
 * outbox/ owns durable work: the task table (kinds and their data), storing tasks with the decisions
 * that cause them, and running them with leases, retries and backoff until done or given up. What a
 * task does belongs to the folder of its kind; the composition root hands in one handler per kind.
 */
import { randomUUID } from "node:crypto";
import {
  buryTaskOps,
  claimDueLaneTasks,
  claimDueLegacyTasks,
  countOutboxTasks,
  deferLaneOps,
  enqueueTaskOps,
  laneDueOps,
  moveTaskLease,
  oldestTaskDueAt,
  parseOutboxTask,
  readOutboxTask,
  readRawOutboxTasks,
  removeTaskIfUnchanged,
  removeTaskOps,
  rescheduleTaskOps,
  setAsideTaskOps,
  unlistTaskOps,
  type OutboxTask,
} from "../records/outbox-tasks";
import { CorruptRecordError } from "../records/read-record";
import type { Store, WriteOp } from "../store/store";
import { DEFAULT_LANE } from "./lanes";
import type { NewTask, TaskData, TaskKind } from "./task-data";

/**
 * Durable work items: a side effect (a dispatch, a check-run write, a HUD record) is stored here in
 * the same atomic write as the decision that caused it, then performed by the OutboxRunner, retried
 * until it succeeds or is given up. Any process (or the scheduled Lambda) can pick up what another
 * left behind: a claimed task whose lease runs out becomes due again. Leases are short and renewed
 * by their holder while the task runs, so a dead holder's work is taken over soon.
 *
 * Work waits in lanes (see lanes.ts: one per GitHub installation written to), claimed round-robin
 * (`Store.claimDueLanes`): a due task of a quiet lane is taken within one round whatever another
 * lane holds, and a lane waiting for its installation's next write slot waits alone.
 */
export type { OutboxTask };

/** A task whose kind is known and whose data was checked against it: what a handler receives. */
export type Task<K extends TaskKind> = Omit<OutboxTask, "kind" | "data"> & { kind: K; data: TaskData[K] };

/** A claimed task and how long its holder has it: the task's score in its lane while claimed. */
export interface TaskLease {
  task: OutboxTask;
  heldUntil: number;
  /** the task's stored text when claimed: completing removes that version only */
  stored: string;
}

export class Outbox {
  constructor(private readonly store: Store) {}

  /**
   * Ops that store a new task, to be written together with whatever decided it. Enqueueing an id
   * that is already waiting replaces its data and keeps its place: a coalescing kind (one id per
   * thing to write, e.g. a check run) costs one run for any number of decisions made before its turn.
   */
  enqueueOps<K extends TaskKind>(task: NewTask<K>, now: number, dueAt = now): WriteOp[] {
    const lane = task.lane ?? DEFAULT_LANE;
    return enqueueTaskOps(
      {
        id: task.id,
        kind: task.kind,
        data: task.data,
        lane,
        createdAt: now,
        attempts: 0,
        lastError: null,
        version: randomUUID(),
      },
      dueAt,
    );
  }

  async enqueue<K extends TaskKind>(task: NewTask<K>, now: number, dueAt = now): Promise<void> {
    await this.store.write(this.enqueueOps(task, now, dueAt));
  }

  /** Takes up to `limit` due tasks for `leaseMs`, round-robin over lanes; nobody else gets them meanwhile. */
  async claim(now: number, leaseMs: number, limit: number): Promise<TaskLease[]> {
    const heldUntil = now + leaseMs;
    const claimed: Pick<OutboxTask, "id" | "lane">[] = (await claimDueLaneTasks(this.store, now, heldUntil, limit)).map(
      ({ lane, member }) => ({ id: member, lane }),
    );
    // Left by a version before lanes (a rolling deploy): taken when the lanes leave room.
    if (claimed.length < limit) {
      for (const id of await claimDueLegacyTasks(this.store, now, heldUntil, limit - claimed.length))
        claimed.push({ id, lane: undefined });
    }
    if (claimed.length === 0) return [];
    const raw = await readRawOutboxTasks(
      this.store,
      claimed.map(({ id }) => id),
    );
    const leases: TaskLease[] = [];
    const setAside: WriteOp[] = [];
    raw.forEach((value, i) => {
      let task: OutboxTask | null;
      try {
        task = parseOutboxTask(value);
      } catch (error) {
        // Not a task this relay can run (a bug or a foreign writer): kept among the dead as it is,
        // for an operator, instead of failing every claim that takes it.
        if (!(error instanceof CorruptRecordError)) throw error;
        setAside.push(...setAsideTaskOps(claimed[i], now));
        return;
      }
      if (value === null || task === null) setAside.push(...unlistTaskOps(claimed[i]));
      else leases.push({ task, heldUntil, stored: value });
    });
    if (setAside.length > 0) await this.store.write(setAside);
    return leases;
  }

  /**
   * Extends a lease to `until`; null when it is no longer ours (another process claimed the task
   * after our lease ran out, or it is done), so a late renewal never takes back what someone else holds.
   */
  async renew(lease: TaskLease, until: number): Promise<TaskLease | null> {
    return (await moveTaskLease(this.store, lease.task, lease.heldUntil, until))
      ? { ...lease, heldUntil: until }
      : null;
  }

  /** Hands a task back unfinished (shutting down): due again at `now` for anyone, if the lease is still ours. */
  async release(lease: TaskLease, now: number): Promise<boolean> {
    if (!(await moveTaskLease(this.store, lease.task, lease.heldUntil, now))) return false;
    await this.store.write(laneDueOps(lease.task, now));
    return true;
  }

  /**
   * Done: removes the task as it was claimed. If it was enqueued again meanwhile (a newer decision
   * to write the same thing), it stays and is due again at once, so the newer decision is acted on.
   */
  async complete(lease: TaskLease, now: number): Promise<void> {
    if (!(await removeTaskIfUnchanged(this.store, lease.task, lease.stored))) await this.release(lease, now);
  }

  async retryAt(task: OutboxTask, dueAt: number, error: string): Promise<void> {
    await this.store.write([
      ...rescheduleTaskOps({ ...task, attempts: task.attempts + 1, lastError: error }, dueAt),
      ...laneDueOps(task, dueAt),
    ]);
  }

  /**
   * Not a failure (see deferral.ts): due again at `dueAt` with its attempts as they were, the wait
   * not counted towards giving up, and its whole lane held back until then: the lane's other writes
   * would find the same installation's slot taken.
   */
  async defer(task: OutboxTask, now: number, dueAt: number): Promise<void> {
    const next: OutboxTask = { ...task, deferredMs: (task.deferredMs ?? 0) + Math.max(0, dueAt - now) };
    const { lane } = next;
    if (lane === undefined) return this.store.write(rescheduleTaskOps(next, dueAt));
    // The lane waits, not the task: it keeps a place at the head of its lane (scored when it was
    // created), so writes of one installation still go out oldest first.
    await this.store.write(deferLaneOps({ ...next, lane }, Math.min(task.createdAt, dueAt), dueAt));
  }

  async bury(task: OutboxTask, now: number, error: string): Promise<void> {
    await this.store.write(buryTaskOps({ ...task, attempts: task.attempts + 1, lastError: error }, now));
  }

  /** False while the store is known to be unreachable (see Store.reachable). */
  reachable(): boolean {
    return this.store.reachable();
  }

  /** A stored task as it stands (attempts, last error), or null once completed or never stored. */
  peek(id: string): Promise<OutboxTask | null> {
    return readOutboxTask(this.store, id);
  }

  /** Ops that remove a waiting task (work made pointless by a later decision); nothing if it is gone. */
  async dropOps(id: string): Promise<WriteOp[]> {
    const task = await this.peek(id);
    return task === null ? [] : removeTaskOps(task);
  }

  depth(): Promise<number> {
    return countOutboxTasks(this.store);
  }

  /**
   * Whole seconds the longest-waiting task has been due without being done or rescheduled, claimed
   * or not; 0 when none is.
   */
  async oldestDueSeconds(now: number): Promise<number> {
    const dueAt = await oldestTaskDueAt(this.store);
    return dueAt === null || dueAt > now ? 0 : Math.floor((now - dueAt) / 1000);
  }
}
