import type { Store, WriteOp } from "../store/store";
import { keys } from "./keys";

/**
 * When things time out: sorted sets scored by deadline (epoch ms), so a sweep reads only what is due.
 * Check runs: members are check keys (see check-runs.ts); a deadline left behind by a later decision
 * is harmless, the sweep checks the wanted state first. Jobs: members are job ids, set when a job
 * starts (`job_timeout_minutes` after) and cleared when it finishes or times out.
 */
export type DeadlineSet = keyof typeof keys.deadlines;

export function setDeadlineOp(set: DeadlineSet, member: string, deadline: number): WriteOp {
  return { op: "zadd", key: keys.deadlines[set], member, score: deadline };
}

export function clearDeadlineOp(set: DeadlineSet, member: string): WriteOp {
  return { op: "zrem", key: keys.deadlines[set], member };
}

export async function clearDeadline(store: Pick<Store, "write">, set: DeadlineSet, member: string): Promise<void> {
  await store.write([clearDeadlineOp(set, member)]);
}

/** Leases up to `limit` due members until `leaseUntil` (see `Store.claimDue`). */
export function claimDueDeadlines(
  store: Pick<Store, "claimDue">,
  set: DeadlineSet,
  now: number,
  leaseUntil: number,
  limit: number,
): Promise<string[]> {
  return store.claimDue(keys.deadlines[set], now, leaseUntil, limit);
}

/** The member's deadline now (or the lease a sweeper holds on it); null when none. */
export function deadlineOf(store: Pick<Store, "zscore">, set: DeadlineSet, member: string): Promise<number | null> {
  return store.zscore(keys.deadlines[set], member);
}
