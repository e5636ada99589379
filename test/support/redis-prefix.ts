import { randomBytes } from "node:crypto";
import Redis from "ioredis";

/** The Redis the tests share; the relay under test and the cleanup both use it. */
export const testRedisUrl = (): string => process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

/** A key prefix no other test run uses, so suites can share one Redis and clean up only their own keys. */
export function uniqueRedisPrefix(): string {
  return `ci-relay-test:${process.pid}:${randomBytes(4).toString("hex")}:`;
}

/** Deletes every key under `prefix` (SCAN, never KEYS, so a busy shared Redis is not blocked). */
export async function cleanupRedisPrefix(prefix: string, redisUrl = testRedisUrl()): Promise<number> {
  // An empty prefix would match every key of everyone sharing this Redis.
  if (prefix === "") throw new Error("cleanupRedisPrefix needs a non-empty prefix");
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    const pattern = `${prefix.replace(/[*?[\]\\]/g, "\\$&")}*`;
    let deleted = 0;
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 500);
      if (keys.length > 0) deleted += await redis.del(...keys);
      cursor = next;
    } while (cursor !== "0");
    return deleted;
  } finally {
    redis.disconnect();
  }
}
