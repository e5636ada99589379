import { openRedisCluster } from "../../src/store/open-redis-cluster";
import { RedisStore } from "../../src/store/redis-store";
import { startOwnRedisCluster, type OwnRedisCluster } from "../support/own-redis-cluster";
import { describeStoreContract } from "./store-contract";

let cluster: OwnRedisCluster;
beforeAll(async () => {
  cluster = await startOwnRedisCluster();
}, 90_000);
afterAll(async () => {
  await cluster.stop();
});

describeStoreContract("redis cluster", () => {
  const opened: RedisStore[] = [];
  return {
    // Each namespace's prefix is a hash tag of its own: the contract's batches write arbitrary keys
    // ("a", "b") together, and a cluster commits a batch only within one slot. The relay's own keys
    // share slots by their tags instead (records/keys.ts; test/unit/records/hash-slots.test.ts).
    // Namespaces land on different slots and nodes, so routing, scripts and MULTI are exercised.
    open(namespace) {
      const store = new RedisStore(openRedisCluster(cluster.url), `{${namespace}}:`);
      opened.push(store);
      return store;
    },
    elapse: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    async cleanup() {
      await Promise.all(opened.map((store) => store.close()));
    },
  };
});
