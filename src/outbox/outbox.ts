/**
 * outbox/ owns durable work: the task table (kinds and their data), storing tasks with the decisions
 * that cause them, and running them with leases, retries and backoff until done or given up. What a
 * task does belongs to the folder of its kind; the composition root hands in one handler per kind.
 */
import { randomUUID } from "node:crypto";
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
export interface OutboxTask {
  /** deterministic where the cause is (e.g. delivery + downstream), so a re-plan cannot double it */
  id: string;
  /** a TaskKind, unless written by another version of the app (the runner checks) */
  kind: string;
  /** as stored: the runner validates it against its kind's schema before a handler sees it */
  data: unknown;
  createdAt: number;
  attempts: number;
  lastError: string | null;
  /** the lane it waits in; absent on tasks stored before lanes (they wait in the old single due set) */
  lane?: string;
  /** ms spent rescheduled for a write slot (deferrals): not counted when deciding to give up */
  deferredMs?: number;
  /** new with every enqueue: a task enqueued again while running is not completed with the old run */
  version?: string;
}

/** A task whose kind is known and whose data was checked against it: what a handler receives. */
export type Task<K extends TaskKind> = Omit<OutboxTask, "kind" | "data"> & { kind: K; data: TaskData[K] };

/** A claimed task and how long its holder has it: the task's score in its lane while claimed. */
export interface TaskLease {
  task: OutboxTask;
  heldUntil: number;
  /** the task's stored text when claimed: completing removes that version only */
  stored: string;
}

// Every key of the outbox, in one place.
const LANES = "relay:outbox:lanes";
const LANE_PREFIX = "relay:outbox:lane:";
const laneKey = (lane: string) => LANE_PREFIX + lane;
/** The single FIFO due set of versions before lanes: still drained, never written to again. */
const LEGACY_DUE = "relay:outbox:due";
/**
 * When each task last became due (enqueued, or its retry time came): unlike a lane's score, a claim
 * does not move it, so work stuck in flight (a hung call, a throttle that never lets go) still ages.
 * Holds every task, so its size is the outbox's depth.
 */
const DUE_SINCE = "relay:outbox:due-since";
const DEAD = "relay:outbox:dead";
const taskKey = (id: string) => `relay:outbox:task:${id}`;
/** Given-up tasks stay readable this long for operators. */
const DEAD_TTL_SECONDS = 7 * 24 * 3600;

const dueKeyOf = (task: OutboxTask) => (task.lane === undefined ? LEGACY_DUE : laneKey(task.lane));

export class Outbox {
  constructor(private readonly store: Store) {}

  /**
   * Ops that store a new task, to be written together with whatever decided it. Enqueueing an id
   * that is already waiting replaces its data and keeps its place: a coalescing kind (one id per
   * thing to write, e.g. a check run) costs one run for any number of decisions made before its turn.
   */
  enqueueOps<K extends TaskKind>(task: NewTask<K>, now: number, dueAt = now): WriteOp[] {
    const lane = task.lane ?? DEFAULT_LANE;
    const stored: OutboxTask = { id: task.id, kind: task.kind, data: task.data, lane, createdAt: now, attempts: 0, lastError: null, version: randomUUID() };
    return [
      { op: "set", key: taskKey(task.id), value: JSON.stringify(stored) },
      { op: "zadd", key: laneKey(lane), member: task.id, score: dueAt, onlyIfAbsent: true },
      { op: "zadd", key: LANES, member: lane, score: dueAt, onlyIfLower: true },
      { op: "zadd", key: DUE_SINCE, member: task.id, score: dueAt, onlyIfAbsent: true },
    ];
  }

  async enqueue<K extends TaskKind>(task: NewTask<K>, now: number, dueAt = now): Promise<void> {
    await this.store.write(this.enqueueOps(task, now, dueAt));
  }

  /** Takes up to `limit` due tasks for `leaseMs`, round-robin over lanes; nobody else gets them meanwhile. */
  async claim(now: number, leaseMs: number, limit: number): Promise<TaskLease[]> {
    const heldUntil = now + leaseMs;
    const claimed = (await this.store.claimDueLanes(LANES, LANE_PREFIX, now, heldUntil, limit)).map(({ lane, member }) => ({ id: member, dueKey: laneKey(lane) }));
    // Left by a version before lanes (a rolling deploy): taken when the lanes leave room.
    if (claimed.length < limit) {
      for (const id of await this.store.claimDue(LEGACY_DUE, now, heldUntil, limit - claimed.length)) claimed.push({ id, dueKey: LEGACY_DUE });
    }
    if (claimed.length === 0) return [];
    const raw = await this.store.getMany(claimed.map(({ id }) => taskKey(id)));
    const leases: TaskLease[] = [];
    const orphans: WriteOp[] = [];
    raw.forEach((value, i) => {
      const { id, dueKey } = claimed[i];
      if (value === null) orphans.push({ op: "zrem", key: dueKey, member: id }, { op: "zrem", key: DUE_SINCE, member: id });
      else leases.push({ task: JSON.parse(value) as OutboxTask, heldUntil, stored: value });
    });
    if (orphans.length > 0) await this.store.write(orphans);
    return leases;
  }

  /**
   * Extends a lease to `until`; null when it is no longer ours (another process claimed the task
   * after our lease ran out, or it is done), so a late renewal never takes back what someone else holds.
   */
  async renew(lease: TaskLease, until: number): Promise<TaskLease | null> {
    return (await this.store.replaceScore(dueKeyOf(lease.task), lease.task.id, lease.heldUntil, until)) ? { ...lease, heldUntil: until } : null;
  }

  /** Hands a task back unfinished (shutting down): due again at `now` for anyone, if the lease is still ours. */
  async release(lease: TaskLease, now: number): Promise<boolean> {
    if (!(await this.store.replaceScore(dueKeyOf(lease.task), lease.task.id, lease.heldUntil, now))) return false;
    await this.store.write(laneDueOps(lease.task, now));
    return true;
  }

  /**
   * Done: removes the task as it was claimed. If it was enqueued again meanwhile (a newer decision
   * to write the same thing), it stays and is due again at once, so the newer decision is acted on.
   */
  async complete(lease: TaskLease, now: number): Promise<void> {
    const { task } = lease;
    const removed = await this.store.writeIf(taskKey(task.id), lease.stored, [
      { op: "del", key: taskKey(task.id) },
      { op: "zrem", key: dueKeyOf(task), member: task.id },
      { op: "zrem", key: DUE_SINCE, member: task.id },
    ]);
    if (!removed) await this.release(lease, now);
  }

  async retryAt(task: OutboxTask, dueAt: number, error: string): Promise<void> {
    await this.reschedule({ ...task, attempts: task.attempts + 1, lastError: error }, dueAt, laneDueOps(task, dueAt));
  }

  /**
   * Not a failure (see deferral.ts): due again at `dueAt` with its attempts as they were, the wait
   * not counted towards giving up, and its whole lane held back until then: the lane's other writes
   * would find the same installation's slot taken.
   */
  async defer(task: OutboxTask, now: number, dueAt: number): Promise<void> {
    const next: OutboxTask = { ...task, deferredMs: (task.deferredMs ?? 0) + Math.max(0, dueAt - now) };
    if (task.lane === undefined) return this.reschedule(next, dueAt, []);
    // The lane waits, not the task: it keeps a place at the head of its lane (scored when it was
    // created), so writes of one installation still go out oldest first.
    await this.store.write([
      { op: "set", key: taskKey(task.id), value: JSON.stringify(next) },
      { op: "zadd", key: laneKey(task.lane), member: task.id, score: Math.min(task.createdAt, dueAt) },
      { op: "zadd", key: DUE_SINCE, member: task.id, score: dueAt },
      { op: "zadd", key: LANES, member: task.lane, score: dueAt },
    ]);
  }

  async bury(task: OutboxTask, now: number, error: string): Promise<void> {
    const dead: OutboxTask = { ...task, attempts: task.attempts + 1, lastError: error };
    await this.store.write([
      { op: "set", key: taskKey(task.id), value: JSON.stringify(dead), ttlSeconds: DEAD_TTL_SECONDS },
      { op: "zrem", key: dueKeyOf(task), member: task.id },
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

  /** Ops that remove a waiting task (work made pointless by a later decision); nothing if it is gone. */
  async dropOps(id: string): Promise<WriteOp[]> {
    const task = await this.peek(id);
    if (task === null) return [];
    return [
      { op: "del", key: taskKey(id) },
      { op: "zrem", key: dueKeyOf(task), member: id },
      { op: "zrem", key: DUE_SINCE, member: id },
    ];
  }

  depth(): Promise<number> {
    return this.store.zcard(DUE_SINCE);
  }

  /**
   * Whole seconds the longest-waiting task has been due without being done or rescheduled, claimed
   * or not; 0 when none is.
   */
  async oldestDueSeconds(now: number): Promise<number> {
    const dueAt = await this.store.lowestScore(DUE_SINCE);
    return dueAt === null || dueAt > now ? 0 : Math.floor((now - dueAt) / 1000);
  }

  private async reschedule(next: OutboxTask, dueAt: number, laneOps: WriteOp[]): Promise<void> {
    await this.store.write([
      { op: "set", key: taskKey(next.id), value: JSON.stringify(next) },
      { op: "zadd", key: dueKeyOf(next), member: next.id, score: dueAt },
      { op: "zadd", key: DUE_SINCE, member: next.id, score: dueAt },
      ...laneOps,
    ]);
  }
}

/** Its lane is visited no later than `dueAt` (a lane's score only ever bounds its work from below). */
function laneDueOps(task: OutboxTask, dueAt: number): WriteOp[] {
  return task.lane === undefined ? [] : [{ op: "zadd", key: LANES, member: task.lane, score: dueAt, onlyIfLower: true }];
}
