import { expect } from "@jest/globals";
import { type Store, updateWithRetry } from "../../src/store/store";

/** How the contract suite gets at one store implementation. */
export interface StoreHarness {
  /** A store over `namespace`: stores opened on the same namespace share data, others do not. */
  open(namespace: string): Store;
  /** Lets `ms` of store time pass: a fake clock moves, or the test really waits. */
  elapse(ms: number): Promise<void>;
  /** Closes every store opened and removes what they wrote. */
  cleanup(): Promise<void>;
}

const EPOCH_MS = 1_767_225_600_000; // 2026-01-01, far past what a float32 or a %.14g print keeps exact

/** The behaviour every Store must have; registered once per implementation. */
export function describeStoreContract(name: string, makeHarness: () => StoreHarness): void {
  describe(`${name} store contract`, () => {
    let harness: StoreHarness;
    let testNumber = 0;
    let namespace: string;
    let store: Store;

    beforeAll(() => {
      harness = makeHarness();
    });
    beforeEach(() => {
      namespace = `t${++testNumber}:`;
      store = harness.open(namespace);
    });
    afterAll(() => harness.cleanup());

    describe("strings", () => {
      test("get answers null for a key never written and the value for one written", async () => {
        await store.write([{ op: "set", key: "a", value: "1" }]);
        expect(await store.get("a")).toBe("1");
        expect(await store.get("missing")).toBeNull();
      });

      test("getMany answers in key order with null for missing keys", async () => {
        await store.write([
          { op: "set", key: "a", value: "A" },
          { op: "set", key: "c", value: "C" },
        ]);
        expect(await store.getMany(["c", "b", "a"])).toEqual(["C", null, "A"]);
        expect(await store.getMany([])).toEqual([]);
      });

      test("setIfAbsent sets only a key that is absent", async () => {
        expect(await store.setIfAbsent("k", "first")).toBe(true);
        expect(await store.setIfAbsent("k", "second")).toBe(false);
        expect(await store.get("k")).toBe("first");
      });

      test("compareAndSet with null expected creates an absent key but never overwrites one", async () => {
        expect(await store.compareAndSet("k", null, "v1")).toBe(true);
        expect(await store.compareAndSet("k", null, "v2")).toBe(false);
        expect(await store.get("k")).toBe("v1");
      });

      test("compareAndSet replaces only the expected value", async () => {
        await store.write([{ op: "set", key: "k", value: "old" }]);
        expect(await store.compareAndSet("k", "stale", "new")).toBe(false);
        expect(await store.get("k")).toBe("old");
        expect(await store.compareAndSet("k", "old", "new")).toBe(true);
        expect(await store.get("k")).toBe("new");
      });

      test("compareAndSet expecting a value fails when the key is absent", async () => {
        expect(await store.compareAndSet("k", "", "v")).toBe(false);
        expect(await store.get("k")).toBeNull();
      });

      test("a non-positive ttl is refused", async () => {
        await expect(store.setIfAbsent("k", "v", 0)).rejects.toThrow(RangeError);
        await expect(store.write([{ op: "set", key: "k", value: "v", ttlSeconds: -1 }])).rejects.toThrow(RangeError);
        expect(await store.get("k")).toBeNull();
      });
    });

    describe("expiry", () => {
      test("setIfAbsent's ttl expires the key, after which it can be set again", async () => {
        expect(await store.setIfAbsent("k", "v", 1)).toBe(true);
        expect(await store.get("k")).toBe("v");
        await harness.elapse(1100);
        expect(await store.get("k")).toBeNull();
        expect(await store.setIfAbsent("k", "again", 1)).toBe(true);
      });

      test("compareAndSet's ttl expires the key", async () => {
        expect(await store.compareAndSet("k", null, "v", 1)).toBe(true);
        await harness.elapse(1100);
        expect(await store.get("k")).toBeNull();
      });

      test("a set op's ttl expires the key; a set without ttl does not expire", async () => {
        await store.write([
          { op: "set", key: "short", value: "v", ttlSeconds: 1 },
          { op: "set", key: "kept", value: "v" },
        ]);
        await harness.elapse(1100);
        expect(await store.getMany(["short", "kept"])).toEqual([null, "v"]);
      });

      test("a zadd's ttl expires the whole sorted set, and a later zadd with ttl extends it (write and writeIf)", async () => {
        await store.write([
          { op: "zadd", key: "index", member: "a", score: 1, ttlSeconds: 1 },
          { op: "zadd", key: "kept", member: "a", score: 1 },
        ]);
        await harness.elapse(600);
        expect(
          await store.writeIf("cond", null, [{ op: "zadd", key: "index", member: "b", score: 2, ttlSeconds: 1 }]),
        ).toBe(true);
        await harness.elapse(600);
        expect(await store.zcard("index")).toBe(2);
        await harness.elapse(600);
        expect(await store.zcard("index")).toBe(0);
        expect(await store.zcard("kept")).toBe(1);
      });

      test("an expired key is absent to every kind of read, and writable afresh", async () => {
        await store.write([
          { op: "set", key: "s", value: "v", ttlSeconds: 1 },
          { op: "zadd", key: "z", member: "m", score: 1, ttlSeconds: 1 },
        ]);
        await harness.elapse(1100);
        expect(await store.getMany(["s"])).toEqual([null]);
        expect(await store.zscore("z", "m")).toBeNull();
        expect(await store.claimDue("z", 10, 20, 5)).toEqual([]);
        expect(await store.rangeByScoreDesc("z", Infinity, -Infinity, 5)).toEqual([]);
        expect(await store.compareAndSet("s", null, "fresh")).toBe(true);
        expect(await store.replaceScore("z", "m", 1, 2)).toBe(false);
        // An expired key of one type does not stand in the way of another.
        await store.write([{ op: "set", key: "z", value: "now a string" }]);
        expect(await store.get("z")).toBe("now a string");
      });

      test("setting a key again without ttl clears its earlier expiry", async () => {
        await store.write([{ op: "set", key: "k", value: "1", ttlSeconds: 1 }]);
        expect(await store.compareAndSet("k", "1", "2")).toBe(true);
        await harness.elapse(1100);
        expect(await store.get("k")).toBe("2");
      });
    });

    describe("incrementWindow", () => {
      test("counts within a window and starts again after it", async () => {
        expect(await store.incrementWindow("w", 1)).toBe(1);
        expect(await store.incrementWindow("w", 1)).toBe(2);
        expect(await store.incrementWindow("w", 1)).toBe(3);
        await harness.elapse(1100);
        expect(await store.incrementWindow("w", 1)).toBe(1);
      });

      test("the window runs from the first increment, not the latest", async () => {
        await store.incrementWindow("w", 1);
        await harness.elapse(600);
        expect(await store.incrementWindow("w", 1)).toBe(2);
        await harness.elapse(600);
        expect(await store.incrementWindow("w", 1)).toBe(1);
      });
    });

    describe("countThenWriteIf", () => {
      const window = { key: "w", windowSeconds: 60, limit: 2 };
      const setB = [{ op: "set" as const, key: "b", value: "x" }];

      test("counts, and applies the ops while the value is as expected; the value found is answered", async () => {
        expect(await store.countThenWriteIf(window, "k", null, [{ op: "set", key: "k", value: "1" }])).toEqual({
          count: 1,
          applied: true,
          current: null,
        });
        expect(await store.countThenWriteIf(window, "k", "1", setB)).toEqual({ count: 2, applied: true, current: "1" });
        expect(await store.getMany(["k", "b"])).toEqual(["1", "x"]);
      });

      test("a value not as expected counts and applies nothing, and is answered", async () => {
        await store.write([{ op: "set", key: "k", value: "now" }]);
        expect(await store.countThenWriteIf(window, "k", null, setB)).toEqual({
          count: 1,
          applied: false,
          current: "now",
        });
        expect(await store.countThenWriteIf(window, "k", "before", setB)).toMatchObject({ count: 2, applied: false });
        expect(await store.get("b")).toBeNull();
      });

      test("over the limit nothing is applied, the count goes on, and it shares incrementWindow's counter", async () => {
        expect(await store.incrementWindow("w", 60)).toBe(1);
        expect(await store.countThenWriteIf(window, "k", null, setB)).toMatchObject({ count: 2, applied: true });
        await store.write([{ op: "del", key: "b" }]);
        expect(await store.countThenWriteIf(window, "k", null, setB)).toEqual({
          count: 3,
          applied: false,
          current: null,
        });
        expect(await store.get("b")).toBeNull();
        expect(await store.incrementWindow("w", 60)).toBe(4);
      });

      test("the window runs from its first count", async () => {
        const short = { ...window, windowSeconds: 1 };
        await store.countThenWriteIf(short, "k", "never", setB);
        await harness.elapse(1100);
        expect(await store.countThenWriteIf(short, "k", "never", setB)).toMatchObject({ count: 1 });
      });
    });

    describe("reserveSlot", () => {
      test("the first slot is now; the next ones follow an interval apart until too far away", async () => {
        // A minute apart, so however slow the machine, the calls below fall within one interval.
        expect(await store.reserveSlot("pace", 60_000, 90_000)).toEqual({ reserved: true, waitMs: 0 });
        const second = await store.reserveSlot("pace", 60_000, 90_000);
        expect(second.reserved).toBe(true);
        expect(second.waitMs).toBeGreaterThan(0);
        expect(second.waitMs).toBeLessThanOrEqual(60_000);
        const third = await store.reserveSlot("pace", 60_000, 90_000);
        expect(third.reserved).toBe(false);
        expect(third.waitMs).toBeGreaterThan(90_000);
        // what was refused reserved nothing: the next slot is still the third one
        const fourth = await store.reserveSlot("pace", 60_000, 150_000);
        expect(fourth.reserved).toBe(true);
        expect(fourth.waitMs).toBeLessThanOrEqual(third.waitMs);
        expect(fourth.waitMs).toBeGreaterThan(60_000);
      });

      test("concurrent reservations from several clients each get their own slot", async () => {
        const other = harness.open(namespace);
        const interval = 60_000;
        const waits = await Promise.all(
          Array.from({ length: 8 }, (_, i) => (i % 2 ? other : store).reserveSlot("pace", interval, 10 * interval)),
        );
        expect(waits.every((w) => w.reserved)).toBe(true);
        expect(waits.map((w) => Math.round(w.waitMs / interval)).sort((a, b) => a - b)).toEqual([
          0, 1, 2, 3, 4, 5, 6, 7,
        ]);
      });

      test("a lost record means free now, and keys pace apart", async () => {
        await store.reserveSlot("pace", 60_000, 120_000);
        expect((await store.reserveSlot("pace", 60_000, 120_000)).waitMs).toBeGreaterThan(0);
        expect(await store.reserveSlot("elsewhere", 60_000, 120_000)).toEqual({ reserved: true, waitMs: 0 });
        await store.write([{ op: "del", key: "pace" }]);
        expect(await store.reserveSlot("pace", 60_000, 120_000)).toEqual({ reserved: true, waitMs: 0 });
      });

      test("the record expires once its slot has passed", async () => {
        await store.reserveSlot("pace", 200, 1_000);
        await harness.elapse(300);
        expect(await store.get("pace")).toBeNull();
        expect(await store.reserveSlot("pace", 200, 1_000)).toEqual({ reserved: true, waitMs: 0 });
      });

      test("refuses an interval that is not a positive integer", async () => {
        await expect(store.reserveSlot("pace", 0, 1_000)).rejects.toThrow(RangeError);
      });
    });

    describe("write", () => {
      test("applies every kind of op in one batch", async () => {
        await store.write([
          { op: "set", key: "gone", value: "x" },
          { op: "zadd", key: "z", member: "stale", score: 1 },
        ]);
        await store.write([
          { op: "set", key: "s", value: "v", ttlSeconds: 60 },
          { op: "del", key: "gone" },
          { op: "zadd", key: "z", member: "m", score: 5 },
          { op: "zrem", key: "z", member: "stale" },
          { op: "xadd", key: "x", fields: { event: "push", n: "1" } },
        ]);
        expect(await store.get("s")).toBe("v");
        expect(await store.get("gone")).toBeNull();
        expect(await store.zscore("z", "m")).toBe(5);
        expect(await store.zscore("z", "stale")).toBeNull();
        expect(await store.readStreamTail("x", 10)).toEqual([
          { id: expect.stringMatching(/^\d+-\d+$/), fields: { event: "push", n: "1" } },
        ]);
      });

      test("a batch with an invalid op applies none of its ops", async () => {
        await expect(
          store.write([
            { op: "set", key: "a", value: "1" },
            { op: "xadd", key: "x", fields: {} },
          ]),
        ).rejects.toThrow();
        expect(await store.get("a")).toBeNull();
        expect(await store.streamLength("x")).toBe(0);
      });

      test("an empty batch is a no-op", async () => {
        await expect(store.write([])).resolves.toBeUndefined();
      });

      test("zadd with onlyIfAbsent keeps an existing member's score", async () => {
        await store.write([{ op: "zadd", key: "z", member: "m", score: 1 }]);
        await store.write([
          { op: "zadd", key: "z", member: "m", score: 9, onlyIfAbsent: true },
          { op: "zadd", key: "z", member: "n", score: 9, onlyIfAbsent: true },
        ]);
        expect(await store.zscore("z", "m")).toBe(1);
        expect(await store.zscore("z", "n")).toBe(9);
      });

      test("writeIf applies onlyIfAbsent and onlyIfLower as write does", async () => {
        await store.write([
          { op: "zadd", key: "z", member: "kept", score: 5 },
          { op: "zadd", key: "z", member: "lowered", score: 5 },
          { op: "zadd", key: "z", member: "not-raised", score: 5 },
        ]);
        expect(
          await store.writeIf("cond", null, [
            { op: "zadd", key: "z", member: "kept", score: 1, onlyIfAbsent: true },
            { op: "zadd", key: "z", member: "lowered", score: 2, onlyIfLower: true },
            { op: "zadd", key: "z", member: "not-raised", score: 9, onlyIfLower: true },
            { op: "zadd", key: "z", member: "new", score: 7, onlyIfLower: true, ttlSeconds: 60 },
          ]),
        ).toBe(true);
        expect(
          await Promise.all(["kept", "lowered", "not-raised", "new"].map((member) => store.zscore("z", member))),
        ).toEqual([5, 2, 5, 7]);
      });

      test("zadd without onlyIfAbsent moves an existing member's score", async () => {
        await store.write([{ op: "zadd", key: "z", member: "m", score: 1 }]);
        await store.write([{ op: "zadd", key: "z", member: "m", score: 9 }]);
        expect(await store.zscore("z", "m")).toBe(9);
        expect(await store.zcard("z")).toBe(1);
      });
    });

    describe("lowestScore", () => {
      test("is the smallest score, and null for an empty or absent set", async () => {
        expect(await store.lowestScore("z")).toBeNull();
        await store.write([
          { op: "zadd", key: "z", member: "b", score: 1_795_000_000_500 },
          { op: "zadd", key: "z", member: "a", score: 1_795_000_000_000 },
        ]);
        expect(await store.lowestScore("z")).toBe(1_795_000_000_000);
        await store.write([
          { op: "zrem", key: "z", member: "a" },
          { op: "zrem", key: "z", member: "b" },
        ]);
        expect(await store.lowestScore("z")).toBeNull();
      });
    });

    describe("zremBelow", () => {
      test("removes exactly the members scored below the bound, in write and writeIf", async () => {
        await store.write([
          { op: "zadd", key: "z", member: "old", score: 1_795_000_000_000 },
          { op: "zadd", key: "z", member: "edge", score: 1_795_000_000_500 },
          { op: "zadd", key: "z", member: "new", score: 1_795_000_001_000 },
        ]);
        await store.write([{ op: "zremBelow", key: "z", score: 1_795_000_000_500 }]);
        expect(await store.rangeByScoreDesc("z", Infinity, -Infinity, 10)).toEqual(["new", "edge"]);
        expect(await store.writeIf("c", null, [{ op: "zremBelow", key: "z", score: 1_795_000_001_000 }])).toBe(true);
        expect(await store.rangeByScoreDesc("z", Infinity, -Infinity, 10)).toEqual(["new"]);
      });
    });

    describe("writeIf", () => {
      test("applies every op only while the condition key holds the expected value", async () => {
        await store.write([{ op: "set", key: "state", value: "A" }]);
        const ops = (value: string) => [
          { op: "set" as const, key: "state", value, ttlSeconds: 60 },
          { op: "zadd" as const, key: "due", member: `task-${value}`, score: 1_795_000_000_123, onlyIfAbsent: true },
          { op: "xadd" as const, key: "log", fields: { to: value }, maxLen: 100 },
        ];
        expect(await store.writeIf("state", "stale", ops("X"))).toBe(false);
        expect(await store.get("state")).toBe("A");
        expect(await store.zcard("due")).toBe(0);
        expect(await store.streamLength("log")).toBe(0);

        expect(await store.writeIf("state", "A", ops("B"))).toBe(true);
        expect(await store.get("state")).toBe("B");
        expect(await store.zscore("due", "task-B")).toBe(1_795_000_000_123);
        expect((await store.readStreamTail("log", 5)).map((e) => e.fields)).toEqual([{ to: "B" }]);
      });

      test("keeps values exactly, large or full of JSON's special characters, in sets and stream fields alike", async () => {
        const awkward = `{"quote":"\\"","slash":"\\\\","nl":"\\n","uni":"日本 ✓ \u0001"}` + "x".repeat(1024 * 1024);
        const ops = [
          { op: "set" as const, key: "big", value: awkward, ttlSeconds: 60 },
          { op: "set" as const, key: "empty", value: "" },
          { op: "xadd" as const, key: "s", fields: { a: awkward, 'b"': "", c: "3" }, maxLen: 10 },
          { op: "set" as const, key: "after", value: "last" },
        ];
        expect(await store.writeIf("cond", null, ops)).toBe(true);
        expect(await store.getMany(["big", "empty", "after"])).toEqual([awkward, "", "last"]);
        expect((await store.readStreamTail("s", 1))[0].fields).toEqual({ a: awkward, 'b"': "", c: "3" });
      });

      test("treats null as 'absent', and del/zrem ops apply too", async () => {
        await store.write([{ op: "zadd", key: "z", member: "m", score: 1 }]);
        expect(
          await store.writeIf("fresh", null, [
            { op: "set", key: "fresh", value: "1" },
            { op: "zrem", key: "z", member: "m" },
          ]),
        ).toBe(true);
        expect(await store.writeIf("fresh", null, [{ op: "set", key: "fresh", value: "2" }])).toBe(false);
        expect(await store.writeIf("fresh", "1", [{ op: "del", key: "fresh" }])).toBe(true);
        expect(await store.get("fresh")).toBeNull();
        expect(await store.zcard("z")).toBe(0);
      });

      test("lets exactly one of many concurrent writers with the same expectation win", async () => {
        await store.write([{ op: "set", key: "race", value: "start" }]);
        const results = await Promise.all(
          Array.from({ length: 30 }, (_, i) =>
            store.writeIf("race", "start", [
              { op: "set", key: "race", value: `w${i}` },
              { op: "zadd", key: "winners", member: `w${i}`, score: i },
            ]),
          ),
        );
        expect(results.filter(Boolean)).toHaveLength(1);
        expect(await store.zcard("winners")).toBe(1);
      });
    });

    describe("sorted sets", () => {
      test("epoch-millisecond scores come back exact", async () => {
        await store.write([{ op: "zadd", key: "z", member: "m", score: EPOCH_MS + 1 }]);
        expect(await store.zscore("z", "m")).toBe(EPOCH_MS + 1);
      });

      test("zcard counts members and zscore answers null for a missing member or key", async () => {
        expect(await store.zcard("z")).toBe(0);
        await store.write([
          { op: "zadd", key: "z", member: "a", score: 1 },
          { op: "zadd", key: "z", member: "b", score: 2 },
        ]);
        expect(await store.zcard("z")).toBe(2);
        expect(await store.zscore("z", "c")).toBeNull();
        expect(await store.zscore("nothing", "a")).toBeNull();
      });

      test("rangeByScoreDesc lists members within bounds, highest first, up to the limit", async () => {
        await store.write(
          [1, 2, 3, 4, 5].map((n) => ({ op: "zadd" as const, key: "z", member: `m${n}`, score: EPOCH_MS + n })),
        );
        expect(await store.rangeByScoreDesc("z", EPOCH_MS + 4, EPOCH_MS + 2, 10)).toEqual(["m4", "m3", "m2"]);
        expect(await store.rangeByScoreDesc("z", Infinity, -Infinity, 2)).toEqual(["m5", "m4"]);
        expect(await store.rangeByScoreDesc("z", Infinity, -Infinity, 0)).toEqual([]);
        expect(await store.rangeByScoreDesc("none", Infinity, -Infinity, 5)).toEqual([]);
      });

      test("claimDue takes due members oldest first and leases them until leaseUntil", async () => {
        const now = EPOCH_MS;
        await store.write([
          { op: "zadd", key: "q", member: "late", score: now - 1 },
          { op: "zadd", key: "q", member: "early", score: now - 1000 },
          { op: "zadd", key: "q", member: "exactly-now", score: now },
          { op: "zadd", key: "q", member: "future", score: now + 1 },
        ]);
        expect(await store.claimDue("q", now, now + 30_000, 2)).toEqual(["early", "late"]);
        expect(await store.zscore("q", "early")).toBe(now + 30_000);
        expect(await store.claimDue("q", now, now + 30_000, 10)).toEqual(["exactly-now"]);
        expect(await store.claimDue("q", now, now + 30_000, 10)).toEqual([]);
        expect(await store.claimDue("q", now + 30_000, now + 60_000, 10)).toEqual([
          "future",
          "early",
          "exactly-now",
          "late",
        ]);
      });

      test("claimDue with limit 0 or on a missing key claims nothing", async () => {
        await store.write([{ op: "zadd", key: "q", member: "m", score: 1 }]);
        expect(await store.claimDue("q", 10, 20, 0)).toEqual([]);
        expect(await store.zscore("q", "m")).toBe(1);
        expect(await store.claimDue("none", 10, 20, 5)).toEqual([]);
      });

      test("zadd onlyIfLower adds a new member and moves an existing one only down", async () => {
        await store.write([{ op: "zadd", key: "z", member: "m", score: EPOCH_MS, onlyIfLower: true }]);
        expect(await store.zscore("z", "m")).toBe(EPOCH_MS);
        await store.write([{ op: "zadd", key: "z", member: "m", score: EPOCH_MS + 5, onlyIfLower: true }]);
        expect(await store.zscore("z", "m")).toBe(EPOCH_MS);
        expect(
          await store.writeIf("absent", null, [
            { op: "zadd", key: "z", member: "m", score: EPOCH_MS - 5, onlyIfLower: true },
          ]),
        ).toBe(true);
        expect(await store.zscore("z", "m")).toBe(EPOCH_MS - 5);
        await expect(
          store.write([{ op: "zadd", key: "z", member: "m", score: 1, onlyIfAbsent: true, onlyIfLower: true }]),
        ).rejects.toThrow(RangeError);
      });

      describe("claimDueLanes", () => {
        const laneOps = (lane: string, members: string[], score: number) => [
          ...members.map((member, i) => ({ op: "zadd" as const, key: `lane:${lane}`, member, score: score + i })),
          { op: "zadd" as const, key: "lanes", member: lane, score, onlyIfLower: true },
        ];

        test("a quiet lane's work is taken in the first round, however much another lane holds", async () => {
          const busy = Array.from({ length: 1000 }, (_, i) => `a${String(i).padStart(4, "0")}`);
          await store.write(laneOps("a", busy, EPOCH_MS - 10_000));
          await store.write(laneOps("b", ["b0"], EPOCH_MS));
          const order: string[] = [];
          for (let i = 0; i < 3; i++) {
            order.push(
              ...(await store.claimDueLanes("lanes", "lane:", EPOCH_MS, EPOCH_MS + 60_000, 1)).map((c) => c.member),
            );
          }
          expect(order.slice(0, 2)).toContain("b0");
          expect(order.filter((m) => m.startsWith("a"))).toEqual(busy.slice(0, order.length - 1));
        });

        test("one claim takes one member per due lane per round, round-robin, and leases them", async () => {
          await store.write(laneOps("a", ["a0", "a1", "a2"], EPOCH_MS - 100));
          await store.write(laneOps("b", ["b0"], EPOCH_MS - 50));
          await store.write(laneOps("c", ["c0"], EPOCH_MS + 1_000));
          const claims = await store.claimDueLanes("lanes", "lane:", EPOCH_MS, EPOCH_MS + 60_000, 3);
          expect(claims).toEqual([
            { lane: "a", member: "a0" },
            { lane: "b", member: "b0" },
            { lane: "a", member: "a1" },
          ]);
          expect(await store.zscore("lane:a", "a0")).toBe(EPOCH_MS + 60_000);
          expect(await store.claimDueLanes("lanes", "lane:", EPOCH_MS, EPOCH_MS + 60_000, 10)).toEqual([
            { lane: "a", member: "a2" },
          ]);
          expect(await store.claimDueLanes("lanes", "lane:", EPOCH_MS, EPOCH_MS + 60_000, 10)).toEqual([]);
          // A lane is visited again once its earliest lease ends; the future lane once its work is due.
          expect(await store.zscore("lanes", "a")).toBe(EPOCH_MS + 60_000);
          expect(await store.claimDueLanes("lanes", "lane:", EPOCH_MS + 1_000, EPOCH_MS + 70_000, 10)).toEqual([
            { lane: "c", member: "c0" },
          ]);
        });

        test("a lane scored in the future waits even with work due, and an emptied lane is dropped", async () => {
          await store.write(laneOps("a", ["a0"], EPOCH_MS - 100));
          await store.write([{ op: "zadd", key: "lanes", member: "a", score: EPOCH_MS + 500 }]);
          expect(await store.claimDueLanes("lanes", "lane:", EPOCH_MS, EPOCH_MS + 60_000, 5)).toEqual([]);
          expect(await store.claimDueLanes("lanes", "lane:", EPOCH_MS + 500, EPOCH_MS + 60_000, 5)).toEqual([
            { lane: "a", member: "a0" },
          ]);
          await store.write([{ op: "zrem", key: "lane:a", member: "a0" }]);
          expect(await store.claimDueLanes("lanes", "lane:", EPOCH_MS + 60_000, EPOCH_MS + 70_000, 5)).toEqual([]);
          expect(await store.zcard("lanes")).toBe(0);
          expect(await store.claimDueLanes("lanes", "lane:", EPOCH_MS, EPOCH_MS + 1, 0)).toEqual([]);
        });

        test("a lane whose next work is due within the half millisecond after a fractional now ends the claim", async () => {
          await store.write(laneOps("a", ["a0"], EPOCH_MS + 1));
          await store.write([{ op: "zadd", key: "lanes", member: "a", score: EPOCH_MS }]);
          expect(await store.claimDueLanes("lanes", "lane:", EPOCH_MS + 0.75, EPOCH_MS + 60_000, 5)).toEqual([]);
        });

        test("concurrent callers never get the same member within a lease", async () => {
          await store.write(
            laneOps(
              "a",
              Array.from({ length: 30 }, (_, i) => `a${i}`),
              EPOCH_MS - 1_000,
            ),
          );
          await store.write(
            laneOps(
              "b",
              Array.from({ length: 30 }, (_, i) => `b${i}`),
              EPOCH_MS - 1_000,
            ),
          );
          const callers = Array.from({ length: 4 }, () => harness.open(namespace));
          const batches = await Promise.all(
            Array.from({ length: 20 }, (_, i) =>
              callers[i % 4].claimDueLanes("lanes", "lane:", EPOCH_MS, EPOCH_MS + 60_000, 3),
            ),
          );
          const members = batches.flat().map((c) => c.member);
          expect(new Set(members).size).toBe(members.length);
          expect(members).toHaveLength(60);
        });
      });

      test("replaceScore moves a score only from the expected one: a lease renewed or released by its holder alone", async () => {
        await store.write([{ op: "zadd", key: "q", member: "m", score: EPOCH_MS }]);
        const held = EPOCH_MS + 15_000;
        expect(await store.claimDue("q", EPOCH_MS, held, 1)).toEqual(["m"]);
        expect(await store.replaceScore("q", "m", held, held + 5_000)).toBe(true);
        expect(await store.zscore("q", "m")).toBe(held + 5_000);
        // Another holder claimed it meanwhile: the first one's renewal must not take it back.
        expect(await store.claimDue("q", held + 5_000, held + 20_000, 1)).toEqual(["m"]);
        expect(await store.replaceScore("q", "m", held + 5_000, held + 10_000)).toBe(false);
        expect(await store.zscore("q", "m")).toBe(held + 20_000);
        // Nor resurrect a member that is gone.
        await store.write([{ op: "zrem", key: "q", member: "m" }]);
        expect(await store.replaceScore("q", "m", held + 20_000, held + 30_000)).toBe(false);
        expect(await store.zscore("q", "m")).toBeNull();
        expect(await store.replaceScore("none", "m", 1, 2)).toBe(false);
      });

      test("a zset op on a key holding a string fails", async () => {
        await store.write([{ op: "set", key: "s", value: "v" }]);
        await expect(store.zcard("s")).rejects.toThrow(/WRONGTYPE/);
      });
    });

    describe("streams", () => {
      test("readStreamTail returns the newest entries, oldest of them first, with increasing ids", async () => {
        for (let n = 1; n <= 5; n++) await store.write([{ op: "xadd", key: "x", fields: { n: String(n) } }]);
        const tail = await store.readStreamTail("x", 3);
        expect(tail.map((entry) => entry.fields.n)).toEqual(["3", "4", "5"]);
        const ids = tail.map((entry) => entry.id.split("-").map(Number));
        const increasing = ids.every(
          ([ms, seq], i) => i === 0 || ms > ids[i - 1][0] || (ms === ids[i - 1][0] && seq > ids[i - 1][1]),
        );
        expect(increasing).toBe(true);
        expect(await store.streamLength("x")).toBe(5);
      });

      test("a missing stream is empty", async () => {
        expect(await store.readStreamTail("none", 10)).toEqual([]);
        expect(await store.streamLength("none")).toBe(0);
      });

      test("maxLen caps the stream and keeps the newest entries", async () => {
        const ops = Array.from({ length: 300 }, (_, i) => ({
          op: "xadd" as const,
          key: "x",
          fields: { n: String(i) },
          maxLen: 10,
        }));
        await store.write(ops);
        // Redis trims approximately (whole internal nodes), so only the bounds are contractual.
        const length = await store.streamLength("x");
        expect(length).toBeGreaterThanOrEqual(10);
        expect(length).toBeLessThan(300);
        expect((await store.readStreamTail("x", 2)).map((entry) => entry.fields.n)).toEqual(["298", "299"]);
      });
    });

    describe("isolation and health", () => {
      test("a store on another namespace does not see this one's keys", async () => {
        const other = harness.open(`${namespace}other:`);
        await store.write([
          { op: "set", key: "k", value: "mine" },
          { op: "zadd", key: "z", member: "m", score: 1 },
          { op: "xadd", key: "x", fields: { a: "b" } },
        ]);
        expect(await other.get("k")).toBeNull();
        expect(await other.zcard("z")).toBe(0);
        expect(await other.streamLength("x")).toBe(0);
        expect(await other.setIfAbsent("k", "theirs")).toBe(true);
        expect(await store.get("k")).toBe("mine");
      });

      test("ping and reachable answer true for a reachable store", async () => {
        expect(await store.ping()).toBe(true);
        expect(store.reachable()).toBe(true);
      });
    });

    describe("under concurrency", () => {
      test("of 50 concurrent setIfAbsent calls exactly one wins", async () => {
        const callers = Array.from({ length: 5 }, () => harness.open(namespace));
        const results = await Promise.all(
          Array.from({ length: 50 }, (_, i) => callers[i % callers.length].setIfAbsent("lock", `caller-${i}`, 60)),
        );
        expect(results.filter(Boolean)).toHaveLength(1);
        expect(await store.get("lock")).toBe(`caller-${results.indexOf(true)}`);
      });

      test("50 concurrent updateWithRetry increments all land", async () => {
        const callers = Array.from({ length: 5 }, () => harness.open(namespace));
        const increment = (current: string | null) => ({ next: String(Number(current ?? "0") + 1), result: null });
        // Each caller may lose to every other one before it wins, so it gets as many attempts as there are callers.
        await Promise.all(
          Array.from({ length: 50 }, (_, i) => updateWithRetry(callers[i % 5], "count", increment, 60, 50)),
        );
        expect(await store.get("count")).toBe("50");
      });

      test("concurrent claimDue callers never get the same member within a lease", async () => {
        const members = Array.from({ length: 40 }, (_, i) => `job-${i}`);
        await store.write(
          members.map((member, i) => ({ op: "zadd" as const, key: "due", member, score: EPOCH_MS - i })),
        );
        const callers = Array.from({ length: 5 }, () => harness.open(namespace));
        const claims = await Promise.all(
          Array.from({ length: 20 }, (_, i) => callers[i % 5].claimDue("due", EPOCH_MS, EPOCH_MS + 60_000, 3)),
        );
        const claimed = claims.flat();
        expect(new Set(claimed).size).toBe(claimed.length);
        expect(claimed.sort()).toEqual([...members].sort());
      });
    });
  });
}
