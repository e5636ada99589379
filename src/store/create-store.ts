import { MemoryStore } from "./memory-store";
import { openRedisCluster } from "./open-redis-cluster";
import { RedisStore, type StoreLog } from "./redis-store";
import { parseRedisUrl, type RedisTarget } from "./redis-url";
import type { Store } from "./store";

export interface CreateStoreOptions {
  /** REDIS_URL; unset means the in-process memory store. */
  redisUrl?: string;
  /** REDIS_CLUSTER: `redisUrl` is a node of a Redis Cluster */
  redisCluster?: boolean;
  /** REDIS_PREFIX: put before every key the store touches. */
  prefix?: string;
  log: StoreLog;
}

/** For the log, when a REDIS_URL that skipped validation (tests, Lambda) cannot be read. */
const UNPARSABLE: RedisTarget = { host: "(unparsable REDIS_URL)", port: "", db: "" };

/** The store the process runs on: Redis (or a Redis Cluster) when REDIS_URL is set, otherwise memory (with a warning). */
export function createStore({ redisUrl, redisCluster = false, prefix = "", log }: CreateStoreOptions): Store {
  if (redisUrl) {
    log.info(
      { store: "redis", ...(parseRedisUrl(redisUrl) ?? UNPARSABLE), cluster: redisCluster, prefix },
      "using the Redis store",
    );
    return new RedisStore(redisCluster ? openRedisCluster(redisUrl) : redisUrl, prefix, log);
  }
  log.warn(
    { store: "memory" },
    "REDIS_URL is not set: using the in-process memory store, which is for a single process only (state is not shared and is lost on restart)",
  );
  return new MemoryStore({ log });
}
