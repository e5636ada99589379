import { MemoryStore } from "../../src/store/memory-store";
import { describeStoreContract } from "./store-contract";

describeStoreContract("memory", () => {
  let now = 1_767_225_600_000;
  const stores = new Map<string, MemoryStore>();
  return {
    // One process-wide store per namespace, the way every Redis client with one prefix sees the same keys.
    open(namespace) {
      const store = stores.get(namespace) ?? new MemoryStore({ now: () => now });
      stores.set(namespace, store);
      return store;
    },
    async elapse(ms) {
      now += ms;
    },
    async cleanup() {
      stores.clear();
    },
  };
});

async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe("memory store", () => {
  let now: number;
  let store: MemoryStore;
  beforeEach(() => {
    now = 1_000_000;
    store = new MemoryStore({ now: () => now });
  });

  test("a key lives exactly its ttl", async () => {
    await store.setIfAbsent("k", "v", 2);
    now += 1999;
    expect(await store.get("k")).toBe("v");
    now += 1;
    expect(await store.get("k")).toBeNull();
  });

  test("stream ids are <ms>-<seq> from the clock and keep increasing when it stalls or steps back", async () => {
    await store.write([{ op: "xadd", key: "x", fields: { n: "1" } }]);
    await store.write([{ op: "xadd", key: "x", fields: { n: "2" } }]);
    now -= 5;
    await store.write([{ op: "xadd", key: "x", fields: { n: "3" } }]);
    now += 100;
    await store.write([{ op: "xadd", key: "x", fields: { n: "4" } }]);
    expect((await store.readStreamTail("x", 10)).map((entry) => entry.id)).toEqual([
      "1000000-0",
      "1000000-1",
      "1000000-2",
      "1000095-0",
    ]);
  });

  test("maxLen trims the stream to exactly maxLen", async () => {
    await store.write(
      Array.from({ length: 7 }, (_, i) => ({ op: "xadd" as const, key: "x", fields: { n: String(i) }, maxLen: 3 })),
    );
    expect(await store.streamLength("x")).toBe(3);
  });

  test("expired keys nobody reads again are dropped by the sweep timer", async () => {
    const swept = new MemoryStore({ now: () => now, sweepIntervalMs: 5 });
    await swept.write(
      Array.from({ length: 50 }, (_, i) => ({ op: "set" as const, key: `short-${i}`, value: "v", ttlSeconds: 1 })),
    );
    await swept.write([{ op: "set", key: "kept", value: "v" }]);
    now += 1_000;
    await until(() => swept.size === 1);
    expect(await swept.get("kept")).toBe("v");
    await swept.close();
  });

  test("is capped: past maxEntries the oldest keys with a TTL make room, keys without one never do, and it says so once", async () => {
    const warnings: string[] = [];
    const capped = new MemoryStore({
      now: () => now,
      maxEntries: 5,
      log: { warn: (_fields, message) => void warnings.push(message) },
    });
    await capped.write([
      { op: "set", key: "outbox-task", value: "work" },
      { op: "zadd", key: "due", member: "outbox-task", score: 1 },
    ]);
    for (let i = 0; i < 20; i++)
      await capped.write([{ op: "set", key: `record-${i}`, value: "x".repeat(1000), ttlSeconds: 3600 }]);
    // A key written again counts as new: it is not the next to go.
    await capped.write([{ op: "set", key: "record-17", value: "again", ttlSeconds: 3600 }]);
    await capped.write([{ op: "set", key: "record-20", value: "x", ttlSeconds: 3600 }]);
    expect(capped.size).toBe(5);
    expect(await capped.get("outbox-task")).toBe("work");
    expect(await capped.zcard("due")).toBe(1);
    expect(await capped.getMany(["record-16", "record-17", "record-18", "record-19", "record-20"])).toEqual([
      null,
      "again",
      null,
      "x".repeat(1000),
      "x",
    ]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/memory store full/);
    await capped.close();
  });

  test("entries read from a stream are copies the caller cannot change in the store", async () => {
    await store.write([{ op: "xadd", key: "x", fields: { n: "1" } }]);
    const [entry] = await store.readStreamTail("x", 1);
    entry.fields.n = "changed";
    expect((await store.readStreamTail("x", 1))[0].fields.n).toBe("1");
  });
});
