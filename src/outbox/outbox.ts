import { keys } from "../records/keys";
import type { Store, WriteOp } from "../store/store";

/**
 * Durable work items: a side effect (a dispatch, a check-run write, a HUD record) is stored here in
 * the same atomic write as the decision that caused it, then performed by the OutboxRunner, retried
 * until it succeeds or is given up. Any process (or the scheduled Lambda) can pick up what another
 * left behind: a claimed task whose lease runs out becomes due again. Leases are short and renewed
 * by their holder while the task runs, so a dead holder's work is taken over soon.
 */
export interface OutboxTask {
  /** deterministic where the cause is (e.g. delivery + downstream), so a re-plan cannot double it */
  id: string;
  kind: string;
  data: Record<string, unknown>;
  createdAt: number;
  attempts: number;
  lastError: string | null;
}

/** A claimed task and how long its holder has it: the task's score in the due set while claimed. */
export interface TaskLease {
  task: OutboxTask;
  heldUntil: number;
}

const DUE = keys.outbox.due;
/**
 * When each task last became due (enqueued, or its retry time came): unlike DUE's score, a claim
 * does not move it, so work stuck in flight (a hung call, a throttle that never lets go) still ages.
 */
const DUE_SINCE = keys.outbox.dueSince;
const DEAD = keys.outbox.dead;
const taskKey = keys.outbox.task;
/** Given-up tasks stay readable this long for operators. */
const DEAD_TTL_SECONDS = 7 * 24 * 3600;

export class Outbox {
  constructor(private readonly store: Store) {}

  /** Ops that store a new task, to be written together with whatever decided it. */
  enqueueOps(task: Pick<OutboxTask, "id" | "kind" | "data">, now: number, dueAt = now): WriteOp[] {
    const stored: OutboxTask = { ...task, createdAt: now, attempts: 0, lastError: null };
    return [
      { op: "set", key: taskKey(task.id), value: JSON.stringify(stored) },
      { op: "zadd", key: DUE, member: task.id, score: dueAt, onlyIfAbsent: true },
      { op: "zadd", key: DUE_SINCE, member: task.id, score: dueAt, onlyIfAbsent: true },
    ];
  }

  async enqueue(task: Pick<OutboxTask, "id" | "kind" | "data">, now: number, dueAt = now): Promise<void> {
    await this.store.write(this.enqueueOps(task, now, dueAt));
  }

  /** Takes up to `limit` due tasks for `leaseMs`; nobody else gets them meanwhile. */
  async claim(now: number, leaseMs: number, limit: number): Promise<TaskLease[]> {
    const heldUntil = now + leaseMs;
    const ids = await this.store.claimDue(DUE, now, heldUntil, limit);
    if (ids.length === 0) return [];
    const raw = await this.store.getMany(ids.map(taskKey));
    const leases: TaskLease[] = [];
    const orphans: WriteOp[] = [];
    raw.forEach((value, i) => {
      if (value === null) orphans.push({ op: "zrem", key: DUE, member: ids[i] }, { op: "zrem", key: DUE_SINCE, member: ids[i] });
      else leases.push({ task: JSON.parse(value) as OutboxTask, heldUntil });
    });
    if (orphans.length > 0) await this.store.write(orphans);
    return leases;
  }

  /**
   * Extends a lease to `until`; null when it is no longer ours (another process claimed the task
   * after our lease ran out, or it is done), so a late renewal never takes back what someone else holds.
   */
  async renew(lease: TaskLease, until: number): Promise<TaskLease | null> {
    return (await this.store.replaceScore(DUE, lease.task.id, lease.heldUntil, until)) ? { ...lease, heldUntil: until } : null;
  }

  /** Hands a task back unfinished (shutting down): due again at `now` for anyone, if the lease is still ours. */
  async release(lease: TaskLease, now: number): Promise<boolean> {
    return this.store.replaceScore(DUE, lease.task.id, lease.heldUntil, now);
  }

  async complete(task: OutboxTask): Promise<void> {
    await this.store.write([
      { op: "del", key: taskKey(task.id) },
      { op: "zrem", key: DUE, member: task.id },
      { op: "zrem", key: DUE_SINCE, member: task.id },
    ]);
  }

  async retryAt(task: OutboxTask, dueAt: number, error: string): Promise<void> {
    const next: OutboxTask = { ...task, attempts: task.attempts + 1, lastError: error };
    await this.store.write([
      { op: "set", key: taskKey(task.id), value: JSON.stringify(next) },
      { op: "zadd", key: DUE, member: task.id, score: dueAt },
      { op: "zadd", key: DUE_SINCE, member: task.id, score: dueAt },
    ]);
  }

  async bury(task: OutboxTask, now: number, error: string): Promise<void> {
    const dead: OutboxTask = { ...task, attempts: task.attempts + 1, lastError: error };
    await this.store.write([
      { op: "set", key: taskKey(task.id), value: JSON.stringify(dead), ttlSeconds: DEAD_TTL_SECONDS },
      { op: "zrem", key: DUE, member: task.id },
      { op: "zrem", key: DUE_SINCE, member: task.id },
      { op: "zadd", key: DEAD, member: task.id, score: now },
      { op: "zremBelow", key: DEAD, score: now - DEAD_TTL_SECONDS * 1000 },
    ]);
  }

  /** False while the store is known to be unreachable (see Store.reachable). */
  reachable(): boolean {
    return this.store.reachable();
  }

  /** A stored task as it stands (attempts, last error), or null once completed or never stored. */
  async peek(id: string): Promise<OutboxTask | null> {
    const raw = await this.store.get(taskKey(id));
    return raw === null ? null : (JSON.parse(raw) as OutboxTask);
  }

  depth(): Promise<number> {
    return this.store.zcard(DUE);
  }

  /**
   * Whole seconds the longest-waiting task has been due without being done or rescheduled, claimed
   * or not; 0 when none is.
   */
  async oldestDueSeconds(now: number): Promise<number> {
    const dueAt = await this.store.lowestScore(DUE_SINCE);
    return dueAt === null || dueAt > now ? 0 : Math.floor((now - dueAt) / 1000);
  }
}
