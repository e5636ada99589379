import type { WriteOp } from "./store";

/**
 * Argument checks both stores share, so the memory store refuses what Redis refuses (instead of
 * quietly storing a NaN score that Redis would reject), and a bad batch is refused before any of it
 * is applied.
 */

/** Seconds to whole milliseconds (never 0): TTLs go to Redis as PX so sub-second TTLs work. */
export function ttlMillis(ttlSeconds: number): number;
export function ttlMillis(ttlSeconds: number | undefined): number | undefined;
export function ttlMillis(ttlSeconds: number | undefined): number | undefined {
  if (ttlSeconds === undefined) return undefined;
  if (!(ttlSeconds > 0) || !Number.isFinite(ttlSeconds)) {
    throw new RangeError(`ttl must be a positive number of seconds, got ${ttlSeconds}`);
  }
  return Math.ceil(ttlSeconds * 1000);
}

export function checkCount(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${name} must be a non-negative integer, got ${value}`);
  }
}

/** A slot interval of 0 would give the slot's record no lifetime (Redis refuses PX 0). */
export function checkInterval(intervalMs: number): void {
  if (!Number.isSafeInteger(intervalMs) || intervalMs < 1) {
    throw new RangeError(`intervalMs must be a positive integer, got ${intervalMs}`);
  }
}

export function checkScore(value: number): void {
  if (Number.isNaN(value)) throw new RangeError("score must be a number, got NaN");
}

export function checkWriteOp(op: WriteOp): void {
  switch (op.op) {
    case "set":
      ttlMillis(op.ttlSeconds);
      return;
    case "zadd":
      checkScore(op.score);
      ttlMillis(op.ttlSeconds);
      // Redis refuses NX with LT: "only new members" and "only lower scores" contradict.
      if (op.onlyIfAbsent && op.onlyIfLower) throw new RangeError("zadd takes onlyIfAbsent or onlyIfLower, not both");
      return;
    case "xadd":
      if (Object.keys(op.fields).length === 0) throw new RangeError("xadd needs at least one field");
      if (op.maxLen !== undefined && (!Number.isSafeInteger(op.maxLen) || op.maxLen < 1)) {
        throw new RangeError(`maxLen must be a positive integer, got ${op.maxLen}`);
      }
      return;
    case "zremBelow":
      checkScore(op.score);
      return;
    case "del":
    case "zrem":
      return;
  }
}
