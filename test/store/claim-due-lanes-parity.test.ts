import { MemoryStore } from "../../src/store/memory-store";
import { RedisStore } from "../../src/store/redis-store";
import type { Store, WriteOp } from "../../src/store/store";
import { cleanupRedisPrefix, testRedisUrl, uniqueRedisPrefix } from "../support/redis-prefix";

/**
 * The Redis claim reads the due lane names first and declares only those lanes' keys to its script
 * (a Redis Cluster routes scripts by their keys). That read must not change which members a claim
 * takes: on many generated lane layouts, the Redis store claims exactly what the memory store (the
 * reference, which sees every lane) claims, and leaves the lanes set as it does.
 */
const NOW = 1_800_000_000_000;
const LAYOUTS = 60;

/** A small deterministic generator (mulberry32), so a failing layout is the same on every run. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Lanes scored around now (some due, some not, some within the half millisecond), each with 0-4 members around now. */
function layout(seed: number): WriteOp[] {
  const next = random(seed);
  const pick = <T>(choices: readonly T[]) => choices[Math.floor(next() * choices.length)];
  const offsets = [-5_000, -1_000, -1, 0, 0.25, 0.5, 1, 1_000];
  const ops: WriteOp[] = [];
  const lanes = 1 + Math.floor(next() * 40);
  for (let lane = 0; lane < lanes; lane++) {
    ops.push({ op: "zadd", key: "lanes", member: `l${lane}`, score: NOW + pick(offsets) });
    const members = Math.floor(next() * 5);
    for (let m = 0; m < members; m++)
      ops.push({ op: "zadd", key: `lane:l${lane}`, member: `l${lane}m${m}`, score: NOW + pick(offsets) });
  }
  return ops;
}

let redis: RedisStore;
let prefix: string;

beforeAll(() => {
  prefix = uniqueRedisPrefix();
  redis = new RedisStore(testRedisUrl(), prefix);
});

afterAll(async () => {
  await redis.close();
  await cleanupRedisPrefix(prefix);
});

async function claims(store: Store, limits: number[]): Promise<string[][]> {
  const taken: string[][] = [];
  for (const [i, limit] of limits.entries()) {
    taken.push(
      (await store.claimDueLanes("lanes", "lane:", NOW + i, NOW + 60_000, limit)).map(
        ({ lane, member }) => `${lane}/${member}`,
      ),
    );
  }
  return taken;
}

test.each(Array.from({ length: LAYOUTS }, (_, seed) => seed))(
  "layout %i: the Redis claim takes what the memory claim takes",
  async (seed) => {
    const memory = new MemoryStore({ now: () => NOW });
    await cleanupRedisPrefix(prefix);
    const ops = layout(seed);
    await memory.write(ops);
    await redis.write(ops);
    const limits = [1, 3, 8, 2, 20].map((limit) => 1 + ((limit + seed) % 20));
    expect(await claims(redis, limits)).toEqual(await claims(memory, limits));
    expect(await redis.rangeByScoreDesc("lanes", Infinity, -Infinity, 1_000)).toEqual(
      await memory.rangeByScoreDesc("lanes", Infinity, -Infinity, 1_000),
    );
  },
);
