import Redis from "ioredis";
import { RedisStore } from "../../src/store/redis-store";
import { describeStoreContract } from "./store-contract";

const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const RUN_PREFIX = `ci-relay-test:${process.pid}-${Date.now()}:`;

async function deleteKeys(client: Redis, pattern: string): Promise<void> {
  let cursor = "0";
  do {
    const [next, keys] = await client.scan(cursor, "MATCH", pattern, "COUNT", 500);
    if (keys.length > 0) await client.del(...keys);
    cursor = next;
  } while (cursor !== "0");
}

async function keysMatching(client: Redis, pattern: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = "0";
  do {
    const [next, keys] = await client.scan(cursor, "MATCH", pattern, "COUNT", 500);
    found.push(...keys);
    cursor = next;
  } while (cursor !== "0");
  return found;
}

describeStoreContract("redis", () => {
  const opened: RedisStore[] = [];
  return {
    // A new connection each time, so concurrent callers are separate clients as in production.
    open(namespace) {
      const store = new RedisStore(REDIS_URL, RUN_PREFIX + namespace);
      opened.push(store);
      return store;
    },
    elapse: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    async cleanup() {
      await Promise.all(opened.map((store) => store.close()));
      const admin = new Redis(REDIS_URL);
      await deleteKeys(admin, `${RUN_PREFIX}*`);
      await admin.quit();
    },
  };
});

describe("redis store", () => {
  const prefix = `${RUN_PREFIX}own:`;
  let admin: Redis;
  beforeAll(() => {
    admin = new Redis(REDIS_URL);
  });
  afterAll(async () => {
    await deleteKeys(admin, `${RUN_PREFIX}*`);
    await admin.quit();
  });

  test("every key it writes, stream keys included, starts with the prefix", async () => {
    const store = new RedisStore(new Redis(REDIS_URL), prefix);
    await store.write([
      { op: "set", key: "s", value: "v" },
      { op: "zadd", key: "z", member: "m", score: 1 },
      { op: "xadd", key: "relay:audit", fields: { a: "b" }, maxLen: 100 },
    ]);
    await store.setIfAbsent("n", "v");
    await store.compareAndSet("c", null, "v");
    await store.incrementWindow("w", 60);
    await store.close();
    expect((await keysMatching(admin, `${prefix}*`)).sort()).toEqual(
      ["c", "n", "relay:audit", "s", "w", "z"].map((key) => prefix + key),
    );
    expect(await admin.type(`${prefix}relay:audit`)).toBe("stream");
  });

  test("incrementWindow gives the counter its window as a TTL", async () => {
    const store = new RedisStore(REDIS_URL, prefix);
    await store.incrementWindow("window", 60);
    await store.close();
    const ttl = await admin.pttl(`${prefix}window`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  test("ping answers false, and operations reject, when Redis is not there", async () => {
    const store = new RedisStore("redis://127.0.0.1:1", prefix);
    expect(await store.ping()).toBe(false);
    await expect(store.get("k")).rejects.toThrow();
    await store.close();
  });
});
