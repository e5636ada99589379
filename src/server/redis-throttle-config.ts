import type { RedisOptions } from "ioredis";

/**
 * Probot shares GitHub rate limits across instances through Bottleneck on Redis when given
 * `redisConfig`. An options object (not the bare URL) lets us add REDIS_PREFIX, so the limiter's keys
 * stay inside the operator's namespace like every other key the relay writes.
 */
export function redisThrottleConfig(redisUrl: string, prefix: string): RedisOptions {
  const url = new URL(redisUrl);
  const db = url.pathname.replace("/", "");
  return {
    host: url.hostname,
    port: url.port ? Number(url.port) : 6379,
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    ...(db ? { db: Number(db) } : {}),
    ...(url.protocol === "rediss:" ? { tls: {} } : {}),
    keyPrefix: `${prefix}relay:throttle:`,
  };
}
