import { z } from "zod";
import type { LaneClaim, Store, WriteOp } from "../store/store";
import { keys } from "./keys";
import { readRecord } from "./read-record";

/**
 * Outbox tasks: each task's record, the lane it waits in (a sorted set of task ids, scored by when
 * each is due or, while claimed, until when it is held), the set of lanes (scored by when each next
 * has work), the due-since index (every task, scored by when it last became due: the outbox's depth
 * and age) and the dead tasks. outbox/outbox.ts decides when each changes; this module says how.
 */
export const outboxTaskSchema = z.object({
  /** deterministic where the cause is (e.g. delivery + downstream), so a re-plan cannot double it */
  id: z.string(),
  kind: z.string(),
  /** as stored: the runner checks it against its kind's schema (outbox/task-data.ts) before a handler sees it */
  data: z.unknown(),
  createdAt: z.number(),
  attempts: z.number(),
  lastError: z.string().nullable(),
  /** the lane it waits in; absent on tasks stored before lanes (they wait in the old single due set) */
  lane: z.string().optional(),
  /** ms spent rescheduled for a write slot (deferrals): not counted when deciding to give up */
  deferredMs: z.number().optional(),
  /** new with every enqueue: a task enqueued again while running is not completed with the old run */
  version: z.string().optional(),
});
export type OutboxTask = z.infer<typeof outboxTaskSchema>;

/** Given-up tasks stay readable this long for operators. */
const DEAD_TTL_SECONDS = 7 * 24 * 3600;

const taskKey = keys.outbox.task;
const dueKeyOf = (task: Pick<OutboxTask, "lane">) =>
  task.lane === undefined ? keys.outbox.legacyDue : keys.outbox.lane(task.lane);

export function parseOutboxTask(raw: string | null): OutboxTask | null {
  return readRecord("outbox task", outboxTaskSchema, raw);
}

/** A stored task as it stands, or null once completed or never stored. */
export async function readOutboxTask(store: Pick<Store, "get">, id: string): Promise<OutboxTask | null> {
  return parseOutboxTask(await store.get(taskKey(id)));
}

/** The stored text of each id's task, in order (null when gone): a claim keeps it to complete that version only. */
export function readRawOutboxTasks(store: Pick<Store, "getMany">, ids: string[]): Promise<(string | null)[]> {
  return store.getMany(ids.map(taskKey));
}

/** A new task waiting from `dueAt`: a task id already waiting keeps its place (its data is replaced). */
export function enqueueTaskOps(task: OutboxTask & { lane: string }, dueAt: number): WriteOp[] {
  return [
    { op: "set", key: taskKey(task.id), value: JSON.stringify(task) },
    { op: "zadd", key: keys.outbox.lane(task.lane), member: task.id, score: dueAt, onlyIfAbsent: true },
    { op: "zadd", key: keys.outbox.lanes, member: task.lane, score: dueAt, onlyIfLower: true },
    { op: "zadd", key: keys.outbox.dueSince, member: task.id, score: dueAt, onlyIfAbsent: true },
  ];
}

/** Takes up to `limit` due tasks of the lanes, round-robin, for a lease until `heldUntil` (see `Store.claimDueLanes`). */
export function claimDueLaneTasks(
  store: Pick<Store, "claimDueLanes">,
  now: number,
  heldUntil: number,
  limit: number,
): Promise<LaneClaim[]> {
  return store.claimDueLanes(keys.outbox.lanes, keys.outbox.lanePrefix, now, heldUntil, limit);
}

/** Takes up to `limit` due tasks of the single due set of versions before lanes (still drained, never written to). */
export function claimDueLegacyTasks(
  store: Pick<Store, "claimDue">,
  now: number,
  heldUntil: number,
  limit: number,
): Promise<string[]> {
  return store.claimDue(keys.outbox.legacyDue, now, heldUntil, limit);
}

/** Moves the task's lease (its score where it waits) from `expected` to `next`; false when it is no longer `expected`. */
export function moveTaskLease(
  store: Pick<Store, "replaceScore">,
  task: Pick<OutboxTask, "id" | "lane">,
  expected: number,
  next: number,
): Promise<boolean> {
  return store.replaceScore(dueKeyOf(task), task.id, expected, next);
}

/** Removes the task as `stored` (its text when claimed); false when it was enqueued again meanwhile. */
export function removeTaskIfUnchanged(
  store: Pick<Store, "writeIf">,
  task: Pick<OutboxTask, "id" | "lane">,
  stored: string,
): Promise<boolean> {
  return store.writeIf(taskKey(task.id), stored, removeTaskOps(task));
}

/** Removes a waiting task (done, or made pointless by a later decision). */
export function removeTaskOps(task: Pick<OutboxTask, "id" | "lane">): WriteOp[] {
  return [{ op: "del", key: taskKey(task.id) }, ...unlistTaskOps(task)];
}

/** Forgets a task id whose record is gone (it expired, or a writer died half way). */
export function unlistTaskOps(task: Pick<OutboxTask, "id" | "lane">): WriteOp[] {
  return [
    { op: "zrem", key: dueKeyOf(task), member: task.id },
    { op: "zrem", key: keys.outbox.dueSince, member: task.id },
  ];
}

/** Its lane is visited no later than `dueAt` (a lane's score only ever bounds its work from below). */
export function laneDueOps(task: Pick<OutboxTask, "lane">, dueAt: number): WriteOp[] {
  return task.lane === undefined
    ? []
    : [{ op: "zadd", key: keys.outbox.lanes, member: task.lane, score: dueAt, onlyIfLower: true }];
}

/** The task, as `next`, due again at `dueAt` where it waits. */
export function rescheduleTaskOps(next: OutboxTask, dueAt: number): WriteOp[] {
  return [
    { op: "set", key: taskKey(next.id), value: JSON.stringify(next) },
    { op: "zadd", key: dueKeyOf(next), member: next.id, score: dueAt },
    { op: "zadd", key: keys.outbox.dueSince, member: next.id, score: dueAt },
  ];
}

/** The task, as `next`, at `placeInLane` in its lane while the whole lane waits until `dueAt`. */
export function deferLaneOps(next: OutboxTask & { lane: string }, placeInLane: number, dueAt: number): WriteOp[] {
  return [
    { op: "set", key: taskKey(next.id), value: JSON.stringify(next) },
    { op: "zadd", key: keys.outbox.lane(next.lane), member: next.id, score: placeInLane },
    { op: "zadd", key: keys.outbox.dueSince, member: next.id, score: dueAt },
    { op: "zadd", key: keys.outbox.lanes, member: next.lane, score: dueAt },
  ];
}

/** Given up: out of its lane, kept readable among the dead for a week. */
export function buryTaskOps(dead: OutboxTask, now: number): WriteOp[] {
  return [
    { op: "set", key: taskKey(dead.id), value: JSON.stringify(dead), ttlSeconds: DEAD_TTL_SECONDS },
    ...unlistTaskOps(dead),
    { op: "zadd", key: keys.outbox.dead, member: dead.id, score: now },
    { op: "zremBelow", key: keys.outbox.dead, score: now - DEAD_TTL_SECONDS * 1000 },
  ];
}

/** A task whose record is corrupt: out of its lane, among the dead, its record left as it is. */
export function setAsideTaskOps(task: Pick<OutboxTask, "id" | "lane">, now: number): WriteOp[] {
  return [...unlistTaskOps(task), { op: "zadd", key: keys.outbox.dead, member: task.id, score: now }];
}

/** How many tasks wait, claimed or not. */
export function countOutboxTasks(store: Pick<Store, "zcard">): Promise<number> {
  return store.zcard(keys.outbox.dueSince);
}

/** When the longest-waiting task became due (epoch ms); null when none waits. */
export function oldestTaskDueAt(store: Pick<Store, "lowestScore">): Promise<number | null> {
  return store.lowestScore(keys.outbox.dueSince);
}

/** Ids of up to `limit` waiting tasks, the latest due first (operators, tests). */
export function listOutboxTaskIds(store: Pick<Store, "rangeByScoreDesc">, limit: number): Promise<string[]> {
  return store.rangeByScoreDesc(keys.outbox.dueSince, Infinity, -Infinity, limit);
}

/** Ids of up to `limit` given-up tasks, the latest first. */
export function listDeadTaskIds(store: Pick<Store, "rangeByScoreDesc">, limit: number): Promise<string[]> {
  return store.rangeByScoreDesc(keys.outbox.dead, Infinity, -Infinity, limit);
}
