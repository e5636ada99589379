import { Cluster } from "ioredis";
import { FAIL_FAST } from "./redis-store";

/**
 * A Redis Cluster client (REDIS_CLUSTER=true) from REDIS_URL, the address of one node or of the
 * cluster's configuration endpoint: the client asks it for the slot map and finds the other nodes.
 * The URL's credentials and TLS (`rediss:`) apply to every node; a cluster has no databases, so a
 * path is ignored. The fail-fast timeouts are the single Redis's (see FAIL_FAST).
 */
export function openRedisCluster(redisUrl: string): Cluster {
  const url = new URL(redisUrl);
  const { enableAutoPipelining, retryStrategy, ...perNode } = FAIL_FAST;
  return new Cluster([{ host: url.hostname, port: Number(url.port || "6379") }], {
    enableAutoPipelining,
    clusterRetryStrategy: retryStrategy,
    redisOptions: {
      ...perNode,
      username: url.username === "" ? undefined : decodeURIComponent(url.username),
      password: url.password === "" ? undefined : decodeURIComponent(url.password),
      tls: url.protocol === "rediss:" ? {} : undefined,
    },
    // Managed clusters (ElastiCache) announce nodes by IP while their TLS certificates name the
    // endpoint: connect to the announced address as it is.
    dnsLookup: (address, callback) => callback(null, address),
  });
}
