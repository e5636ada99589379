/** What `Store.reserveSlot` answers: how long until the slot, and whether it is the caller's. */
export interface SlotReservation {
  reserved: boolean;
  /** ms from now to the slot; when not reserved, how long until one could be */
  waitMs: number;
}

/**
 * The slot decision both stores make (Redis in Lua, the memory store with this): the earliest of
 * now and the next free moment, reserved only when at most `maxWaitMs` away, after which the next
 * free moment is `intervalMs` later. No record (never paced, expired, or lost to a flush) means
 * "free now", so losing the key costs at most one early write, never a stall. Pure.
 */
export function nextSlot(
  nextFreeAt: number | null,
  now: number,
  intervalMs: number,
  maxWaitMs: number,
): SlotReservation & { nextFreeAt: number | null } {
  const slot = Math.max(now, nextFreeAt ?? now);
  const waitMs = slot - now;
  if (waitMs > maxWaitMs) return { reserved: false, waitMs, nextFreeAt };
  return { reserved: true, waitMs, nextFreeAt: slot + intervalMs };
}
