import type { Store, WriteOp } from "../store/store";

/**
 * Durable work items: a side effect (a dispatch, a check-run write, a HUD record) is stored here in
 * the same atomic write as the decision that caused it, then performed by the OutboxRunner, retried
 * until it succeeds or is given up. Any process (or the scheduled Lambda) can pick up what another
 * left behind: a claimed task whose lease runs out becomes due again.
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

const DUE = "relay:outbox:due";
const DEAD = "relay:outbox:dead";
const taskKey = (id: string) => `relay:outbox:task:${id}`;
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
    ];
  }

  async enqueue(task: Pick<OutboxTask, "id" | "kind" | "data">, now: number, dueAt = now): Promise<void> {
    await this.store.write(this.enqueueOps(task, now, dueAt));
  }

  /** Takes up to `limit` due tasks for `leaseMs`; nobody else gets them meanwhile. */
  async claim(now: number, leaseMs: number, limit: number): Promise<OutboxTask[]> {
    const ids = await this.store.claimDue(DUE, now, now + leaseMs, limit);
    if (ids.length === 0) return [];
    const raw = await this.store.getMany(ids.map(taskKey));
    const tasks: OutboxTask[] = [];
    const orphans: WriteOp[] = [];
    raw.forEach((value, i) => {
      if (value === null) orphans.push({ op: "zrem", key: DUE, member: ids[i] });
      else tasks.push(JSON.parse(value) as OutboxTask);
    });
    if (orphans.length > 0) await this.store.write(orphans);
    return tasks;
  }

  async complete(task: OutboxTask): Promise<void> {
    await this.store.write([
      { op: "del", key: taskKey(task.id) },
      { op: "zrem", key: DUE, member: task.id },
    ]);
  }

  async retryAt(task: OutboxTask, dueAt: number, error: string): Promise<void> {
    const next: OutboxTask = { ...task, attempts: task.attempts + 1, lastError: error };
    await this.store.write([
      { op: "set", key: taskKey(task.id), value: JSON.stringify(next) },
      { op: "zadd", key: DUE, member: task.id, score: dueAt },
    ]);
  }

  async bury(task: OutboxTask, now: number, error: string): Promise<void> {
    const dead: OutboxTask = { ...task, attempts: task.attempts + 1, lastError: error };
    await this.store.write([
      { op: "set", key: taskKey(task.id), value: JSON.stringify(dead), ttlSeconds: DEAD_TTL_SECONDS },
      { op: "zrem", key: DUE, member: task.id },
      { op: "zadd", key: DEAD, member: task.id, score: now },
      { op: "zremBelow", key: DEAD, score: now - DEAD_TTL_SECONDS * 1000 },
    ]);
  }

  /** A stored task as it stands (attempts, last error), or null once completed or never stored. */
  async peek(id: string): Promise<OutboxTask | null> {
    const raw = await this.store.get(taskKey(id));
    return raw === null ? null : (JSON.parse(raw) as OutboxTask);
  }

  depth(): Promise<number> {
    return this.store.zcard(DUE);
  }
}
