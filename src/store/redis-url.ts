export interface RedisTarget {
  host: string;
  port: string;
  db: string;
}

/**
 * REDIS_URL read once for the relay and the worker alike: a redis:// or rediss:// URL, and where it
 * points (port 6379 and database 0 unless it says otherwise); null when it is not such a URL. The URL
 * may carry a password, so only these parts come out: they are safe to log.
 */
export function parseRedisUrl(value: string): RedisTarget | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  if (url.protocol !== "redis:" && url.protocol !== "rediss:") return null;
  return { host: url.hostname, port: url.port || "6379", db: url.pathname.slice(1) || "0" };
}
