import type { WriteOp } from "./store";

/**
 * `ops` without the steps that cannot change what they leave behind, for the Redis script that
 * applies them (each step a Redis call: a delivery fanned out to four downstreams trimmed the same
 * index four times and set the same indexes' expiry four times). Dropped:
 * - a `zremBelow` of a key already trimmed at that score or above, when nothing added since to that
 *   key scores below it (only `zadd` adds members);
 * - a `zadd`'s expiry when a later `zadd` of the same key sets the same one (the last one counts,
 *   and a script's clock does not move).
 * Pure; the order of the ops kept is theirs.
 */
export function compactOps(ops: readonly WriteOp[]): WriteOp[] {
  return dropRepeatedExpiries(dropRepeatedTrims(ops));
}

function dropRepeatedTrims(ops: readonly WriteOp[]): WriteOp[] {
  // Per key, the score below which it holds no member since its last trim.
  const trimmedBelow = new Map<string, number>();
  return ops.filter((op) => {
    if (op.op === "zadd") {
      const floor = trimmedBelow.get(op.key);
      if (floor !== undefined && op.score < floor) trimmedBelow.delete(op.key);
    } else if (op.op === "zremBelow") {
      const floor = trimmedBelow.get(op.key);
      if (floor !== undefined && op.score <= floor) return false;
      trimmedBelow.set(op.key, op.score);
    }
    return true;
  });
}

function dropRepeatedExpiries(ops: readonly WriteOp[]): WriteOp[] {
  // Walked from the end: per key, the expiry the next zadd of it sets.
  const laterExpiry = new Map<string, number>();
  const kept: WriteOp[] = [];
  for (let i = ops.length - 1; i >= 0; i--) {
    const op = ops[i];
    if (op.op === "zadd" && op.ttlSeconds !== undefined) {
      if (laterExpiry.get(op.key) === op.ttlSeconds) {
        const { ttlSeconds: _dropped, ...withoutExpiry } = op;
        kept.push(withoutExpiry);
        continue;
      }
      laterExpiry.set(op.key, op.ttlSeconds);
    }
    kept.push(op);
  }
  return kept.reverse();
}
