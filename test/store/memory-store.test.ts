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
    await store.write(Array.from({ length: 7 }, (_, i) => ({ op: "xadd" as const, key: "x", fields: { n: String(i) }, maxLen: 3 })));
    expect(await store.streamLength("x")).toBe(3);
  });

  test("entries read from a stream are copies the caller cannot change in the store", async () => {
    await store.write([{ op: "xadd", key: "x", fields: { n: "1" } }]);
    const [entry] = await store.readStreamTail("x", 1);
    entry.fields.n = "changed";
    expect((await store.readStreamTail("x", 1))[0].fields.n).toBe("1");
  });
});
