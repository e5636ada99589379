import Redis from "ioredis";
import { parseDispatchRecord } from "../src/records/dispatches";
import { keys } from "../src/records/keys";
import { prefixedKey } from "../src/store/prefixed-key";
import { startFakeGitHub } from "../test/support/fake-github";
import { startOwnRedis } from "../test/support/own-redis";
import { startRelayServer } from "../test/support/server-harness";
import { deliveryHeaders, signedDeliveries } from "./signed-deliveries";

const UPSTREAMS = ["up1/repo", "up2/repo", "up3/repo", "up4/repo"];
const CONFIG = `
version: 1
upstreams: [${UPSTREAMS.join(", ")}]
downstreams:
  - { repo: farm/queue, level: L2, transport: queue, runs_on: bench-runner }
`;
const JOBS_STREAM = keys.jobRequests.stream;
const POLL_MS = 100;
const DRAIN_LIMIT_MS = 300_000;
/** After the last expected job request, how long to keep watching for a duplicate. */
const SETTLE_MS = 3_000;

export interface BurstFigures {
  deliveries: number;
  /** answered 200 */
  accepted: number;
  /** first delivery sent to the last job request on the stream */
  secondsToLastDispatch: number;
  /** Redis used_memory above its level before the burst, highest while draining */
  peakBacklogBytes: number;
  /** Redis bytes per delivery still waiting for its job request, at the peak */
  bytesPerWaitingDelivery: number;
  /** dispatches dropped because their PR got a newer head before they were sent */
  superseded: number;
  lost: number;
  duplicated: number;
}

/** Each of this many PRs gets a share of the burst's pushes in turn: later heads supersede earlier ones. */
const PULL_REQUESTS = 100;

/** Deliveries whose dispatch was dropped as superseded, from the dispatch records themselves. */
async function supersededDeliveries(redis: Redis, prefix: string): Promise<Set<string>> {
  const found = new Set<string>();
  // `redis` has no keyPrefix: SCAN patterns and the keys it returns are whole stored keys.
  const pattern = prefixedKey(prefix, keys.dispatches.record("*"));
  let cursor = "0";
  do {
    const [next, storedKeys] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 1000);
    cursor = next;
    if (storedKeys.length === 0) continue;
    for (const value of await redis.mget(...storedKeys)) {
      const record = parseDispatchRecord(value);
      if (record?.state === "superseded") found.add(record.deliveryId);
    }
  } while (cursor !== "0");
  return found;
}

const usedMemory = async (redis: Redis) => Number(/used_memory:(\d+)/.exec(await redis.info("memory"))?.[1] ?? NaN);

/**
 * `count` ~20 KB PR deliveries sent all at once, spread over 4 upstream installations, relayed to a
 * queue downstream (job requests on the Redis stream: the relay's own drain, without GitHub's write
 * pacing, which would make 1,000 repository_dispatch writes take ≥ 250 s by design). Then: time to
 * the last job request, the Redis memory the backlog took at its peak, and from the stream itself how
 * many accepted deliveries never got their job request (lost) or got more than one (duplicated).
 */
export async function measureBurst(count = 1_000): Promise<BurstFigures> {
  const [github, ownRedis] = await Promise.all([startFakeGitHub(), startOwnRedis({ persistence: false })]);
  UPSTREAMS.forEach((repo, i) => github.addInstallation({ id: 1 + i, account: repo.split("/")[0], repos: [repo] }));
  github.addInstallation({ id: 50, account: "farm", repos: ["farm/queue"] });
  const relay = await startRelayServer({
    fakeGitHub: github,
    configYaml: CONFIG,
    logLevel: "warn",
    env: {
      REDIS_URL: ownRedis.url,
      NODE_ENV: "production",
      RELAY_TOKEN_SECRET: "bench-secret-bench-secret-bench-secret-0123",
    },
  });
  const redis = new Redis(ownRedis.url);
  const stored = (key: string) => prefixedKey(relay.redisPrefix, key);
  try {
    const deliveries = signedDeliveries(count, UPSTREAMS, 1, PULL_REQUESTS);
    const baseline = await usedMemory(redis);
    let peak = 0;
    const started = performance.now();
    const answers = Promise.all(
      deliveries.map(async (delivery) => {
        const headers = deliveryHeaders(delivery);
        const response = await fetch(`${relay.baseUrl}/api/github/webhooks`, {
          method: "POST",
          headers,
          body: delivery.body,
        });
        await response.arrayBuffer();
        return { id: headers["x-github-delivery"], ok: response.status === 200 };
      }),
    );
    let answered: { id: string; ok: boolean }[] | null = null;
    void answers.then((all) => (answered = all));
    let lastAt = NaN;
    let bytesPerWaiting = 0;
    while (performance.now() - started < DRAIN_LIMIT_MS) {
      const [bytes, length, superseded] = [
        (await usedMemory(redis)) - baseline,
        await redis.xlen(stored(JOBS_STREAM)),
        (await supersededDeliveries(redis, relay.redisPrefix)).size,
      ];
      if (bytes > peak) {
        peak = bytes;
        const waiting = await redis.zcard(stored(keys.outbox.dueSince));
        bytesPerWaiting = waiting > 0 ? bytes / waiting : bytesPerWaiting;
      }
      const accepted = answered === null ? Infinity : (answered as { ok: boolean }[]).filter((a) => a.ok).length;
      if (length + superseded >= accepted) {
        lastAt = performance.now();
        break;
      }
      await new Promise((done) => setTimeout(done, POLL_MS));
    }
    const all = await answers;
    await new Promise((done) => setTimeout(done, SETTLE_MS));
    const entries = await redis.xrange(stored(JOBS_STREAM), "-", "+");
    const perDelivery = new Map<string, number>();
    for (const [, fields] of entries) {
      const id = fields[fields.indexOf("delivery_id") + 1];
      perDelivery.set(id, (perDelivery.get(id) ?? 0) + 1);
    }
    const accepted = all.filter((a) => a.ok);
    const superseded = await supersededDeliveries(redis, relay.redisPrefix);
    return {
      deliveries: count,
      accepted: accepted.length,
      secondsToLastDispatch: (lastAt - started) / 1000,
      peakBacklogBytes: peak,
      bytesPerWaitingDelivery: bytesPerWaiting,
      superseded: superseded.size,
      // Superseded is not lost: the PR's newer head was sent instead (and counted here if it was not).
      lost: accepted.filter((a) => !perDelivery.has(a.id) && !superseded.has(a.id)).length,
      duplicated: [...perDelivery.values()].reduce((sum, n) => sum + n - 1, 0),
    };
  } finally {
    redis.disconnect();
    process.kill(relay.pid, "SIGTERM");
    const killer = setTimeout(() => void relay.kill(), 10_000);
    await relay.exited;
    clearTimeout(killer);
    await Promise.all([github.close(), ownRedis.stop()]);
  }
}
