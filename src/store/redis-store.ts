import Redis, { Cluster, type ClientContext, type RedisCommander, type RedisOptions, type Result } from "ioredis";
import type { SlotReservation } from "./next-slot";
import type { CountedWrite, LaneClaim, Store, StreamEntry, WindowLimit, WriteOp } from "./store";
import { compactOps } from "./compact-ops";
import { prefixedKey } from "./prefixed-key";
import { reportRedisOutages, type OutageLog, type RedisOutages } from "./report-redis-outages";
import { checkCount, checkInterval, checkScore, checkWriteOp, ttlMillis } from "./store-arguments";
import { streamFields } from "./stream-fields";

/** Where the store reports connection trouble (a pino/Probot logger fits). */
export type StoreLog = OutageLog;

/**
 * A down Redis must fail a request within about two seconds rather than hold it: the webhook then
 * answers 503 (`store-unavailable`) and GitHub redelivers, instead of GitHub giving up on a hung
 * request after 10 s and the health check hanging with it.
 * - connectTimeout 1 s: a host that drops packets (no connection refused) is given up on quickly;
 * - maxRetriesPerRequest 1 with reconnects at most 500 ms apart: a command that is waiting for a
 *   connection fails after one more failed attempt, and the store reconnects soon after Redis is back;
 * - commandTimeout 2 s: a connected Redis that stops answering does not hold requests either;
 * - disconnectTimeout 200 ms: closing a store while Redis is away leaves an ioredis timer behind
 *   for this long (2 s by default), which would hold up the exit of a process that is done.
 * The offline queue stays on, so commands issued just after start wait for the first connection
 * (bounded by the above) instead of failing at once.
 * Auto-pipelining sends the commands issued in one event-loop turn in one socket write: under load
 * (50 callbacks at once, each a handful of commands) that is one write where there were dozens.
 */
export const FAIL_FAST: RedisOptions = {
  enableAutoPipelining: true,
  connectTimeout: 1000,
  maxRetriesPerRequest: 1,
  retryStrategy: (attempt) => Math.min(attempt * 100, 500),
  commandTimeout: 2000,
  disconnectTimeout: 200,
};

/*
 * Read-decide-write steps run as Lua scripts so no other client can interleave. Scores and times
 * arrive as decimal strings and are handed to Redis as they are: converting them to Lua numbers
 * and back could print epoch milliseconds as "1.7e+12".
 *
 * A conditional write's KEYS[1] is the key compared; every key an op touches is declared too
 * (KEYS[n], never built in the script): a Redis Cluster routes the script by its keys and refuses keys
 * of different slots, so records that commit together carry one hash tag (records/keys.ts). ARGV:
 * "absent" | "value", expected, the number of ops, then each op as consecutive arguments, its kind
 * first and its key's index second (numbers as strings, "" for an option not given):
 *   s key value px | d key | z key flag score member px | r key member | b key score
 *   x key maxlen count field value ...
 * Flat arguments rather than one JSON array: cjson decoding a delivery's ~50 ops took ~50 µs of
 * Redis's one thread, more than the commands they stand for; a 20 KB value is an argument like any
 * other, never escaped into JSON and decoded again.
 */
const AS_EXPECTED = `(ARGV[1] == 'absent' and not current) or (ARGV[1] == 'value' and current == ARGV[2])`;
const APPLY_OPS = `
      local i = 4
      for _ = 1, tonumber(ARGV[3]) do
        local kind, key = ARGV[i], KEYS[tonumber(ARGV[i + 1])]
        if kind == 's' then
          if ARGV[i + 3] ~= '' then redis.call('SET', key, ARGV[i + 2], 'PX', ARGV[i + 3])
          else redis.call('SET', key, ARGV[i + 2]) end
          i = i + 4
        elseif kind == 'd' then
          redis.call('DEL', key)
          i = i + 2
        elseif kind == 'z' then
          if ARGV[i + 2] ~= '' then redis.call('ZADD', key, ARGV[i + 2], ARGV[i + 3], ARGV[i + 4])
          else redis.call('ZADD', key, ARGV[i + 3], ARGV[i + 4]) end
          if ARGV[i + 5] ~= '' then redis.call('PEXPIRE', key, ARGV[i + 5]) end
          i = i + 6
        elseif kind == 'r' then
          redis.call('ZREM', key, ARGV[i + 2])
          i = i + 3
        elseif kind == 'b' then
          redis.call('ZREMRANGEBYSCORE', key, '-inf', ARGV[i + 2])
          i = i + 3
        elseif kind == 'x' then
          local first, last = i + 4, i + 3 + tonumber(ARGV[i + 3])
          if ARGV[i + 2] ~= '' then
            redis.call('XADD', key, 'MAXLEN', '~', ARGV[i + 2], '*', unpack(ARGV, first, last))
          else
            redis.call('XADD', key, '*', unpack(ARGV, first, last))
          end
          i = last + 1
        end
      end`;

const SCRIPTS = {
  ciRelayWriteIf: {
    // The number of keys comes first in each call.
    lua: `
      local current = redis.call('GET', KEYS[1])
      if not (${AS_EXPECTED}) then return 0 end
      ${APPLY_OPS}
      return 1`,
  },
  ciRelayCountThenWriteIf: {
    // As ciRelayWriteIf, with the window's counter as the last key and its window in ms and limit
    // as the last two arguments. Answers {count, 1 if applied else 0, the compared key's value}.
    lua: `
      local counter = KEYS[#KEYS]
      local count = redis.call('INCR', counter)
      if count == 1 then redis.call('PEXPIRE', counter, ARGV[#ARGV - 1]) end
      local current = redis.call('GET', KEYS[1])
      if count > tonumber(ARGV[#ARGV]) or not (${AS_EXPECTED}) then return {count, 0, current} end
      ${APPLY_OPS}
      return {count, 1, current}`,
  },
  ciRelayIncrementWindow: {
    numberOfKeys: 1,
    // ARGV: window in ms
    lua: `
      local count = redis.call('INCR', KEYS[1])
      if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
      return count`,
  },
  ciRelayReserveSlot: {
    numberOfKeys: 1,
    // ARGV: interval ms, max wait ms. Mirrors nextSlot(); the clock is Redis's own, so every process
    // agrees on it. Epoch ms are exact in Lua's doubles and written with %.0f, never as "1.7e+12".
    lua: `
      local time = redis.call('TIME')
      local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
      local slot = math.max(now, tonumber(redis.call('GET', KEYS[1]) or '0') or 0)
      local wait = slot - now
      if wait > tonumber(ARGV[2]) then return {0, wait} end
      local nextFree = slot + tonumber(ARGV[1])
      redis.call('SET', KEYS[1], string.format('%.0f', nextFree), 'PX', string.format('%.0f', nextFree - now))
      return {1, wait}`,
  },
  ciRelayClaimDue: {
    numberOfKeys: 1,
    // ARGV: now, leaseUntil, limit
    lua: `
      local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[3])
      for _, member in ipairs(due) do redis.call('ZADD', KEYS[1], ARGV[2], member) end
      return due`,
  },
  ciRelayClaimDueLanes: {
    // KEYS[1]: the lanes set, KEYS[1 + i]: the key of lane ARGV[3 + i]. ARGV: now, leaseUntil, limit,
    // then the lane names (read just before, see claimDueLanes).
    // Mirrors the memory store's claimDueLanes; see Store.claimDueLanes. A lane served and still due
    // is scored half a millisecond past now: behind every lane due by now, ties included, and still
    // due for the next round of the same claim. A round that serves nothing ends the claim. Every
    // lane key is declared in KEYS (a Redis Cluster routes by them): a lane that became due after
    // its names were read is not declared, so it is left as it is, for the next claim.
    lua: `
      local now = tonumber(ARGV[1])
      local behind = string.format('%.1f', now + 0.5)
      local limit = tonumber(ARGV[3])
      local declared = {}
      for i = 4, #ARGV do declared[ARGV[i]] = KEYS[i - 2] end
      local taken = {}
      local count = 0
      while count < limit do
        local lanes = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', behind, 'LIMIT', 0, limit - count)
        if #lanes == 0 then break end
        local served = count
        for _, lane in ipairs(lanes) do
          local key = declared[lane]
          if key then
            local head = redis.call('ZRANGEBYSCORE', key, '-inf', ARGV[1], 'LIMIT', 0, 1)[1]
            if head then
              redis.call('ZADD', key, ARGV[2], head)
              taken[#taken + 1] = lane
              taken[#taken + 1] = head
              count = count + 1
            end
            local low = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')[2]
            if not low then redis.call('ZREM', KEYS[1], lane)
            elseif head and tonumber(low) <= now then redis.call('ZADD', KEYS[1], behind, lane)
            else redis.call('ZADD', KEYS[1], low, lane) end
          end
        end
        if count == served then break end
      end
      return taken`,
  },
  ciRelayReplaceScore: {
    numberOfKeys: 1,
    // ARGV: member, expected, next. Compared as numbers: Redis may print a score differently from
    // how it was written, and epoch milliseconds are exact as Lua numbers (doubles).
    lua: `
      local current = redis.call('ZSCORE', KEYS[1], ARGV[1])
      if not current or tonumber(current) ~= tonumber(ARGV[2]) then return 0 end
      redis.call('ZADD', KEYS[1], 'XX', ARGV[3], ARGV[1])
      return 1`,
  },
} as const;

declare module "ioredis" {
  interface RedisCommander<Context> {
    ciRelayWriteIf(numberOfKeys: number, ...keysThenArguments: string[]): Result<number, Context>;
    ciRelayCountThenWriteIf(
      numberOfKeys: number,
      ...keysThenArguments: string[]
    ): Result<[number, number, string | null], Context>;
    ciRelayIncrementWindow(key: string, windowMs: string): Result<number, Context>;
    ciRelayClaimDue(key: string, now: string, leaseUntil: string, limit: string): Result<string[], Context>;
    ciRelayReserveSlot(key: string, intervalMs: string, maxWaitMs: string): Result<[number, number], Context>;
    ciRelayClaimDueLanes(numberOfKeys: number, ...keysThenArguments: string[]): Result<string[], Context>;
    ciRelayReplaceScore(key: string, member: string, expected: string, next: string): Result<number, Context>;
  }
}

/** Redis writes scores as "inf"/"-inf"; JavaScript spells them Infinity. */
/** An option's argument in a conditional write: "" when not given. */
function optional(value: number | undefined): string {
  return value === undefined ? "" : String(value);
}

function scoreArg(score: number): string {
  checkScore(score);
  return score === Infinity ? "+inf" : score === -Infinity ? "-inf" : String(score);
}

function parseScore(text: string): number {
  return text === "inf" ? Infinity : text === "-inf" ? -Infinity : Number(text);
}

/**
 * The Store on Redis, shared by every process and Lambda instance: one Redis, or a Redis Cluster
 * (given a `Cluster` client). Every key it touches is `prefixedKey(prefix, key)`, so several relays
 * can share one Redis. The store owns its connection: `close` ends it, whether the store opened it
 * from a URL or was handed a client.
 */
export class RedisStore implements Store {
  readonly kind = "redis" as const;
  private readonly client: Redis | Cluster;
  private readonly outages: RedisOutages;

  constructor(
    client: Redis | Cluster | string,
    private readonly prefix = "",
    log?: StoreLog,
  ) {
    this.client = typeof client === "string" ? new Redis(client, FAIL_FAST) : client;
    for (const [name, script] of Object.entries(SCRIPTS)) this.client.defineCommand(name, script);
    this.outages = reportRedisOutages(this.client, log, "store operations fail until it is back");
  }

  async get(key: string): Promise<string | null> {
    return this.client.get(this.key(key));
  }

  async getMany(keys: string[]): Promise<(string | null)[]> {
    if (keys.length === 0) return [];
    // A cluster refuses an MGET of keys in several slots; single GETs are pipelined per node instead.
    if (this.client instanceof Cluster) return Promise.all(keys.map((key) => this.client.get(this.key(key))));
    return this.client.mget(keys.map((key) => this.key(key)));
  }

  async setIfAbsent(key: string, value: string, ttlSeconds?: number): Promise<boolean> {
    // SET NX is atomic on its own; no script needed.
    const ttlMs = ttlMillis(ttlSeconds);
    const reply =
      ttlMs === undefined
        ? await this.client.set(this.key(key), value, "NX")
        : await this.client.set(this.key(key), value, "PX", ttlMs, "NX");
    return reply === "OK";
  }

  async compareAndSet(key: string, expected: string | null, next: string, ttlSeconds?: number): Promise<boolean> {
    return this.writeIf(key, expected, [{ op: "set", key, value: next, ttlSeconds }]);
  }

  async writeIf(key: string, expected: string | null, ops: WriteOp[]): Promise<boolean> {
    const { keys, args } = this.conditionalWrite(key, expected, ops);
    return (await this.client.ciRelayWriteIf(keys.length, ...keys, ...args)) === 1;
  }

  async countThenWriteIf(
    window: WindowLimit,
    key: string,
    expected: string | null,
    ops: WriteOp[],
  ): Promise<CountedWrite> {
    // A cluster refuses a script over keys of several slots, and the rate window is not in the
    // record's: counted first and written after, it is what the script does, in two round trips.
    if (this.client instanceof Cluster) {
      ops.forEach(checkWriteOp);
      const count = await this.incrementWindow(window.key, window.windowSeconds);
      if (count > window.limit) return { count, applied: false, current: await this.get(key) };
      if (await this.writeIf(key, expected, ops)) return { count, applied: true, current: expected };
      return { count, applied: false, current: await this.get(key) };
    }
    const { keys, args } = this.conditionalWrite(key, expected, ops);
    const [count, applied, current] = await this.client.ciRelayCountThenWriteIf(
      keys.length + 1,
      ...keys,
      this.key(window.key),
      ...args,
      String(ttlMillis(window.windowSeconds)),
      String(window.limit),
    );
    return { count, applied: applied === 1, current };
  }

  /** A conditional write's KEYS and ARGV (see SCRIPTS). */
  private conditionalWrite(key: string, expected: string | null, given: WriteOp[]): { keys: string[]; args: string[] } {
    given.forEach(checkWriteOp);
    const ops = compactOps(given);
    // KEYS: the compared key, then each other key the ops touch, once (1-based, as Lua indexes). By
    // a map: a delivery's commit touches a few dozen long keys, and a search of the list compared them
    // all for each op.
    const keys = [this.key(key)];
    const indexes = new Map([[key, 1]]);
    const keyIndex = (opKey: string): number => {
      const known = indexes.get(opKey);
      if (known !== undefined) return known;
      const at = keys.push(this.key(opKey));
      indexes.set(opKey, at);
      return at;
    };
    const args = [expected === null ? "absent" : "value", expected ?? "", String(ops.length)];
    for (const op of ops) {
      const at = String(keyIndex(op.key));
      switch (op.op) {
        case "set":
          args.push("s", at, op.value, optional(ttlMillis(op.ttlSeconds)));
          break;
        case "del":
          args.push("d", at);
          break;
        case "zadd": {
          const flag = op.onlyIfAbsent ? "NX" : op.onlyIfLower ? "LT" : "";
          args.push("z", at, flag, scoreArg(op.score), op.member, optional(ttlMillis(op.ttlSeconds)));
          break;
        }
        case "zrem":
          args.push("r", at, op.member);
          break;
        case "zremBelow":
          args.push("b", at, `(${scoreArg(op.score)}`);
          break;
        case "xadd": {
          const flat = Object.entries(op.fields).flat();
          args.push("x", at, optional(op.maxLen), String(flat.length), ...flat);
          break;
        }
      }
    }
    return { keys, args };
  }

  async write(given: WriteOp[]): Promise<void> {
    given.forEach(checkWriteOp);
    const ops = compactOps(given);
    if (ops.length === 0) return;
    // One command is atomic on its own: sent as it is (auto-pipelined with whatever else this turn
    // sends), without a MULTI/EXEC or a pipeline object of its own: an audit record's XADD, say, on
    // every request. A zadd with a TTL is two commands (ZADD, PEXPIRE), so it keeps its transaction.
    const [only] = ops;
    if (ops.length === 1 && !(only.op === "zadd" && only.ttlSeconds !== undefined)) {
      await this.queueOp(this.client, only);
      return;
    }
    const batch = this.client.multi();
    for (const op of ops) void this.queueOp(batch, op);
    // EXEC applies the queued commands together or, if any was refused while queueing, none of them.
    const replies = await batch.exec();
    const failed = replies?.find(([error]) => error !== null)?.[0];
    if (!replies || failed) throw failed ?? new Error("Redis transaction was aborted");
  }

  /**
   * Issues `op`'s commands on `target`: the client itself (each answers with its promise) or a
   * transaction being queued (whose EXEC answers for all).
   */
  private queueOp<Context extends ClientContext>(target: RedisCommander<Context>, op: WriteOp): unknown {
    const key = this.key(op.key);
    switch (op.op) {
      case "set": {
        const ttlMs = ttlMillis(op.ttlSeconds);
        return ttlMs === undefined ? target.set(key, op.value) : target.set(key, op.value, "PX", ttlMs);
      }
      case "del":
        return target.del(key);
      case "zadd": {
        const score = scoreArg(op.score);
        const added = op.onlyIfAbsent
          ? target.zadd(key, "NX", score, op.member)
          : op.onlyIfLower
            ? target.zadd(key, "LT", score, op.member)
            : target.zadd(key, score, op.member);
        const ttlMs = ttlMillis(op.ttlSeconds);
        return ttlMs === undefined ? added : target.pexpire(key, ttlMs);
      }
      case "zrem":
        return target.zrem(key, op.member);
      case "zremBelow":
        return target.zremrangebyscore(key, "-inf", `(${scoreArg(op.score)}`);
      case "xadd": {
        const trim = op.maxLen === undefined ? [] : ["MAXLEN", "~", String(op.maxLen)];
        return target.xadd(key, ...trim, "*", ...Object.entries(op.fields).flat());
      }
    }
  }

  async incrementWindow(key: string, windowSeconds: number): Promise<number> {
    return this.client.ciRelayIncrementWindow(this.key(key), String(ttlMillis(windowSeconds)));
  }

  async reserveSlot(key: string, intervalMs: number, maxWaitMs: number): Promise<SlotReservation> {
    checkInterval(intervalMs);
    checkCount("maxWaitMs", maxWaitMs);
    const [reserved, waitMs] = await this.client.ciRelayReserveSlot(
      this.key(key),
      String(intervalMs),
      String(maxWaitMs),
    );
    return { reserved: reserved === 1, waitMs };
  }

  async claimDue(key: string, now: number, leaseUntil: number, limit: number): Promise<string[]> {
    checkCount("limit", limit);
    const [nowArg, leaseArg] = [scoreArg(now), scoreArg(leaseUntil)];
    // LIMIT 0 0 would mean "no limit" to Redis.
    if (limit === 0) return [];
    return this.client.ciRelayClaimDue(this.key(key), nowArg, leaseArg, String(limit));
  }

  async claimDueLanes(
    lanesKey: string,
    lanePrefix: string,
    now: number,
    leaseUntil: number,
    limit: number,
  ): Promise<LaneClaim[]> {
    checkCount("limit", limit);
    const [nowArg, leaseArg] = [scoreArg(now), scoreArg(leaseUntil)];
    if (limit === 0) return [];
    // The lanes the script may visit, read first so that each lane's key is declared to it: those
    // due by now (and the half millisecond the script puts a served lane behind). A claim of `limit`
    // visits at most limit * (limit + 3) / 2 lanes in score order (each round serves one or stops),
    // so reading that many leaves the script's choice as it would be with every lane at hand.
    const lanesDue = await this.client.zrangebyscore(
      this.key(lanesKey),
      "-inf",
      String(now + 0.5),
      "LIMIT",
      0,
      (limit * (limit + 3)) / 2,
    );
    if (lanesDue.length === 0) return [];
    const laneKeys = lanesDue.map((lane) => this.key(lanePrefix + lane));
    const flat = await this.client.ciRelayClaimDueLanes(
      1 + laneKeys.length,
      this.key(lanesKey),
      ...laneKeys,
      nowArg,
      leaseArg,
      String(limit),
      ...lanesDue,
    );
    const claims: LaneClaim[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) claims.push({ lane: flat[i], member: flat[i + 1] });
    return claims;
  }

  async replaceScore(key: string, member: string, expected: number, next: number): Promise<boolean> {
    return (await this.client.ciRelayReplaceScore(this.key(key), member, scoreArg(expected), scoreArg(next))) === 1;
  }

  async rangeByScoreDesc(key: string, max: number, min: number, limit: number): Promise<string[]> {
    checkCount("limit", limit);
    const [maxArg, minArg] = [scoreArg(max), scoreArg(min)];
    if (limit === 0) return [];
    return this.client.zrevrangebyscore(this.key(key), maxArg, minArg, "LIMIT", 0, limit);
  }

  async zcard(key: string): Promise<number> {
    return this.client.zcard(this.key(key));
  }

  async zscore(key: string, member: string): Promise<number | null> {
    const score = await this.client.zscore(this.key(key), member);
    return score === null ? null : parseScore(score);
  }

  async lowestScore(key: string): Promise<number | null> {
    const [, score] = await this.client.zrange(this.key(key), 0, 0, "WITHSCORES");
    return score === undefined ? null : parseScore(score);
  }

  async readStreamTail(key: string, count: number): Promise<StreamEntry[]> {
    checkCount("count", count);
    if (count === 0) return [];
    const newestFirst = await this.client.xrevrange(this.key(key), "+", "-", "COUNT", count);
    return newestFirst.reverse().map(([id, flat]) => ({ id, fields: streamFields(flat) }));
  }

  async streamLength(key: string): Promise<number> {
    return this.client.xlen(this.key(key));
  }

  async ping(): Promise<boolean> {
    try {
      return (await this.client.ping()) === "PONG";
    } catch {
      return false;
    }
  }

  reachable(): boolean {
    return !this.outages.down();
  }

  /** Resolves once the connection is closed, so nothing of the store outlives it. */
  async close(): Promise<void> {
    const { status } = this.client;
    if (this.client instanceof Cluster) {
      // Quitting a cluster resolves once every node has quit; one still connecting emits no "end".
      if (status === "ready") await this.client.quit();
      else this.client.disconnect();
      return;
    }
    // Between reconnect attempts there is no socket: cancelling the next attempt is all there is to do.
    if (status === "end" || status === "reconnecting") return this.client.disconnect();
    const ended = new Promise((resolve) => this.client.once("end", resolve));
    // QUIT lets replies in flight arrive.
    if (status === "ready") await this.client.quit();
    else this.client.disconnect();
    await ended;
  }

  private key(key: string): string {
    return prefixedKey(this.prefix, key);
  }
}
