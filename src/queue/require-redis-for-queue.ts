import { EnvError } from "../config/env";
import type { RelayConfig } from "../config/types";
import type { Store } from "../store/store";

/**
 * Queue transport needs Redis: job requests are consumed by workers in other processes, which the
 * in-process memory store cannot reach. Checked at start, so the operator sees one line naming
 * REDIS_URL instead of job requests that no worker will ever read.
 */
export function requireRedisForQueue(config: Pick<RelayConfig, "downstreams">, store: Pick<Store, "kind">): void {
  if (store.kind === "redis") return;
  const queued = config.downstreams.find((downstream) => downstream.transport === "queue");
  if (queued === undefined) return;
  throw new EnvError([
    { variable: "REDIS_URL", message: `required because downstream ${queued.repo} uses transport: queue` },
  ]);
}
