/**
 * What an erasure of Redis (a FLUSHALL, a restart without persistence) excuses in the faults
 * ledger. The ledger sees requests from outside: it knows when the request that got work accepted
 * went out and when its answer came, never when the relay wrote to Redis in between. So the
 * erasure is a span, from just before it was injected (`at`) to when it had certainly happened
 * (`doneAt`: FLUSHALL answered, the server killed), and work whose write may have fallen before its
 * end is gone with Redis, not lost: an answer can arrive after the fault was recorded for a write
 * that Redis had before it was erased.
 */
export interface Erasure {
  /** work accepted before this was owed before the erasure: a grace period let it arrive */
  graceStart: number;
  at: number;
  doneAt: number;
}

/** Owed work that never arrived, and the request that got it accepted. */
export interface AcceptedWork {
  sentAt: number;
  acceptedAt: number;
}

/**
 * Accepted within an erasure's grace period, by a request sent before the erasure was done: the
 * relay may have stored it in the Redis that was then erased.
 */
export function erasedWithRedis(erasures: readonly Erasure[], work: AcceptedWork): boolean {
  return erasures.some((e) => e.graceStart <= work.acceptedAt && work.sentAt < e.doneAt);
}

/**
 * A callback answered no-dispatch: legitimate when the relay's dispatch record may have been erased
 * before it. The record is written with the delivery's acceptance, by the request sent at
 * `recordSentAt`; a dispatch the relay already had in hand can still go out after the erasure.
 */
export function dispatchRecordErased(
  erasures: readonly Erasure[],
  callback: { recordSentAt: number; noDispatchAt: number },
): boolean {
  return erasures.some((e) => callback.recordSentAt < e.doneAt && e.at < callback.noDispatchAt);
}
