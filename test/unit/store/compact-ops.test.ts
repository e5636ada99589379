import { compactOps } from "../../../src/store/compact-ops";
import type { WriteOp } from "../../../src/store/store";

/** Sorted sets and strings as Redis keeps them, with each key's expiry: what a script leaves behind. */
function applied(ops: readonly WriteOp[]): Record<string, unknown> {
  const sets = new Map<string, Map<string, number>>();
  const strings = new Map<string, string>();
  const expiry = new Map<string, number>();
  const drop = (key: string) => {
    sets.delete(key);
    strings.delete(key);
    expiry.delete(key);
  };
  for (const op of ops) {
    if (op.op === "set") {
      drop(op.key);
      strings.set(op.key, op.value);
      if (op.ttlSeconds !== undefined) expiry.set(op.key, op.ttlSeconds);
    } else if (op.op === "del") drop(op.key);
    else if (op.op === "zadd") {
      const members = sets.get(op.key) ?? new Map<string, number>();
      sets.set(op.key, members);
      const current = members.get(op.member);
      if (
        !(op.onlyIfAbsent && current !== undefined) &&
        !(op.onlyIfLower && current !== undefined && op.score >= current)
      )
        members.set(op.member, op.score);
      if (op.ttlSeconds !== undefined) expiry.set(op.key, op.ttlSeconds);
    } else if (op.op === "zrem" || op.op === "zremBelow") {
      const members = sets.get(op.key);
      if (!members) continue;
      for (const [member, score] of members)
        if (op.op === "zrem" ? member === op.member : score < op.score) members.delete(member);
      if (members.size === 0) drop(op.key); // Redis deletes an emptied set, its expiry with it
    }
  }
  const entries = (map: Map<string, Map<string, number>>) =>
    Object.fromEntries([...map].map(([key, members]) => [key, Object.fromEntries(members)]));
  return { sets: entries(sets), strings: Object.fromEntries(strings), expiry: Object.fromEntries(expiry) };
}

describe("compactOps", () => {
  it("trims an index once and sets its expiry once for a delivery fanned out to four downstreams", () => {
    const ops: WriteOp[] = ["a", "b", "c", "d"].flatMap((member): WriteOp[] => [
      { op: "zadd", key: "runs", member, score: 100 },
      { op: "zremBelow", key: "runs", score: 10 },
      { op: "zadd", key: "runs:sha", member, score: 100, ttlSeconds: 60 },
    ]);
    expect(compactOps(ops)).toEqual([
      { op: "zadd", key: "runs", member: "a", score: 100 },
      { op: "zremBelow", key: "runs", score: 10 },
      { op: "zadd", key: "runs:sha", member: "a", score: 100 },
      { op: "zadd", key: "runs", member: "b", score: 100 },
      { op: "zadd", key: "runs:sha", member: "b", score: 100 },
      { op: "zadd", key: "runs", member: "c", score: 100 },
      { op: "zadd", key: "runs:sha", member: "c", score: 100 },
      { op: "zadd", key: "runs", member: "d", score: 100 },
      { op: "zadd", key: "runs:sha", member: "d", score: 100, ttlSeconds: 60 },
    ]);
    expect(applied(compactOps(ops))).toEqual(applied(ops));
  });

  it("keeps a trim that a member added below it since makes count, and a different expiry", () => {
    const ops: WriteOp[] = [
      { op: "zremBelow", key: "k", score: 10 },
      { op: "zadd", key: "k", member: "old", score: 5, ttlSeconds: 60 },
      { op: "zremBelow", key: "k", score: 10 },
      { op: "zadd", key: "k", member: "new", score: 50, ttlSeconds: 30 },
    ];
    expect(compactOps(ops)).toEqual(ops);
  });

  it("leaves what the ops leave, on generated sequences", () => {
    let seed = 11;
    const random = (n: number) =>
      Math.floor(((seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648) * n);
    const generated = (): WriteOp => {
      const key = ["k1", "k2"][random(2)];
      const member = ["m1", "m2", "m3"][random(3)];
      const score = random(6);
      const ttlSeconds = [undefined, 30, 60][random(3)];
      switch (random(7)) {
        case 0:
          return { op: "zremBelow", key, score };
        case 1:
          return { op: "zrem", key, member };
        case 2:
          return { op: "del", key };
        case 3:
          return { op: "zadd", key, member, score, onlyIfLower: true, ...(ttlSeconds ? { ttlSeconds } : {}) };
        default:
          return { op: "zadd", key, member, score, ...(ttlSeconds ? { ttlSeconds } : {}) };
      }
    };
    for (let n = 0; n < 5_000; n++) {
      const ops = Array.from({ length: 1 + random(12) }, generated);
      expect([ops, applied(compactOps(ops))]).toEqual([ops, applied(ops)]);
    }
  });
});
