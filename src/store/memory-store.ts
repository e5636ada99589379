import { nextSlot, type SlotReservation } from "./next-slot";
import type { OutageLog } from "./report-redis-outages";
import type { CountedWrite, LaneClaim, Store, StreamEntry, WindowLimit, WriteOp } from "./store";
import { checkCount, checkInterval, checkScore, checkWriteOp, ttlMillis } from "./store-arguments";

/**
 * One keyspace with Redis's value types, so code that would hit WRONGTYPE on Redis fails here too
 * instead of passing its tests. Strings and sorted sets carry a TTL; nothing in the Store
 * interface expires a stream.
 */
type Entry =
  | { kind: "string"; value: string; expiresAt?: number }
  | { kind: "zset"; scores: Map<string, number>; expiresAt?: number }
  | { kind: "stream"; entries: StreamEntry[]; lastMs: number; lastSeq: number };

type Kind = Entry["kind"];

export interface MemoryStoreOptions {
  /** Clock in epoch milliseconds; tests inject one to expire keys without waiting. */
  now?: () => number;
  /** How often expired keys are dropped when nobody reads them; default 60 s. */
  sweepIntervalMs?: number;
  /** Most keys held; past it the oldest keys that have a TTL are evicted. Default 10,000. */
  maxEntries?: number;
  /** where the one "store full" warning goes */
  log?: Pick<OutageLog, "warn">;
}

/** Expired keys nobody reads again would otherwise stay forever in a long-running process. */
const SWEEP_INTERVAL_MS = 60_000;
/**
 * Records live for weeks (dispatch records and payloads: 30 days), so TTLs alone do not bound a
 * busy process: about a thousand deliveries' worth of state, tens of MiB.
 */
const MAX_ENTRIES = 10_000;

const byScoreThenMember = ([ma, sa]: [string, number], [mb, sb]: [string, number]): number =>
  sa - sb || (ma < mb ? -1 : ma > mb ? 1 : 0);

/** Members scored at most `now`, lowest first (ties by member, as Redis orders them), up to `limit`. */
function dueMembers(scores: Map<string, number>, now: number, limit: number): string[] {
  return [...scores]
    .filter(([, score]) => score <= now)
    .sort(byScoreThenMember)
    .slice(0, limit)
    .map(([member]) => member);
}

function lowestOf(scores: Map<string, number>): number | null {
  let lowest: number | null = null;
  for (const score of scores.values()) if (lowest === null || score < lowest) lowest = score;
  return lowest;
}

/**
 * The Store in process memory: for one process only (local runs and tests). Every method does its
 * work synchronously before its promise settles, which is what makes each call, and each `write`
 * batch, atomic.
 *
 * TTLs work as on Redis: an expired key is gone on its next read, and a timer (unref'd: it never
 * keeps a process alive) drops expired keys nobody reads. The size is capped like a Redis with
 * `maxmemory-policy volatile-lru`: past `maxEntries` keys, the least recently written keys that
 * have a TTL (records that would expire anyway) make room; keys without one (outbox work, indexes
 * of due work, streams) are never evicted. The first eviction is logged, once.
 */
export class MemoryStore implements Store {
  readonly kind = "memory" as const;
  private readonly entries = new Map<string, Entry>();
  private readonly now: () => number;
  private readonly maxEntries: number;
  private readonly log: MemoryStoreOptions["log"];
  private readonly sweeper: NodeJS.Timeout;
  private warnedFull = false;

  constructor({
    now = Date.now,
    sweepIntervalMs = SWEEP_INTERVAL_MS,
    maxEntries = MAX_ENTRIES,
    log,
  }: MemoryStoreOptions = {}) {
    this.now = now;
    this.maxEntries = maxEntries;
    this.log = log;
    this.sweeper = setInterval(() => this.sweep(this.now()), sweepIntervalMs);
    this.sweeper.unref();
  }

  /** Keys held, expired ones not yet dropped included. */
  get size(): number {
    return this.entries.size;
  }

  async get(key: string): Promise<string | null> {
    return this.entryOf(key, "string")?.value ?? null;
  }

  async getMany(keys: string[]): Promise<(string | null)[]> {
    // Like MGET: a key holding another type reads as null rather than failing the batch.
    return keys.map((key) => {
      const entry = this.live(key);
      return entry?.kind === "string" ? entry.value : null;
    });
  }

  async setIfAbsent(key: string, value: string, ttlSeconds?: number): Promise<boolean> {
    const ttlMs = ttlMillis(ttlSeconds);
    if (this.live(key)) return false;
    this.setString(key, value, ttlMs);
    return true;
  }

  async compareAndSet(key: string, expected: string | null, next: string, ttlSeconds?: number): Promise<boolean> {
    const ttlMs = ttlMillis(ttlSeconds);
    if ((this.entryOf(key, "string")?.value ?? null) !== expected) return false;
    this.setString(key, next, ttlMs);
    return true;
  }

  async writeIf(key: string, expected: string | null, ops: WriteOp[]): Promise<boolean> {
    ops.forEach(checkWriteOp);
    if ((this.entryOf(key, "string")?.value ?? null) !== expected) return false;
    for (const op of ops) this.apply(op);
    return true;
  }

  async write(ops: WriteOp[]): Promise<void> {
    ops.forEach(checkWriteOp);
    for (const op of ops) this.apply(op);
  }

  async countThenWriteIf(
    window: WindowLimit,
    key: string,
    expected: string | null,
    ops: WriteOp[],
  ): Promise<CountedWrite> {
    ops.forEach(checkWriteOp);
    const count = await this.incrementWindow(window.key, window.windowSeconds);
    const current = this.entryOf(key, "string")?.value ?? null;
    const applied = count <= window.limit && (await this.writeIf(key, expected, ops));
    return { count, applied, current };
  }

  async incrementWindow(key: string, windowSeconds: number): Promise<number> {
    const windowMs = ttlMillis(windowSeconds);
    const entry = this.entryOf(key, "string");
    if (!entry) {
      this.setString(key, "1", windowMs);
      return 1;
    }
    if (!/^-?\d+$/.test(entry.value)) throw new Error("ERR value is not an integer or out of range");
    const count = Number(entry.value) + 1;
    entry.value = String(count);
    return count;
  }

  async reserveSlot(key: string, intervalMs: number, maxWaitMs: number): Promise<SlotReservation> {
    checkInterval(intervalMs);
    checkCount("maxWaitMs", maxWaitMs);
    const now = this.now();
    const stored = this.entryOf(key, "string")?.value;
    const { reserved, waitMs, nextFreeAt } = nextSlot(
      stored === undefined ? null : Number(stored),
      now,
      intervalMs,
      maxWaitMs,
    );
    if (reserved && nextFreeAt !== null) this.setString(key, String(nextFreeAt), nextFreeAt - now);
    return { reserved, waitMs };
  }

  async claimDue(key: string, now: number, leaseUntil: number, limit: number): Promise<string[]> {
    checkScore(now);
    checkScore(leaseUntil);
    checkCount("limit", limit);
    const scores = this.entryOf(key, "zset")?.scores;
    if (!scores) return [];
    const due = dueMembers(scores, now, limit);
    for (const member of due) scores.set(member, leaseUntil);
    return due;
  }

  async claimDueLanes(
    lanesKey: string,
    lanePrefix: string,
    now: number,
    leaseUntil: number,
    limit: number,
  ): Promise<LaneClaim[]> {
    checkScore(now);
    checkScore(leaseUntil);
    checkCount("limit", limit);
    // A lane served and still due goes half a millisecond past now: behind every lane due by now.
    const behind = now + 0.5;
    const taken: LaneClaim[] = [];
    while (taken.length < limit) {
      const lanes = this.entryOf(lanesKey, "zset")?.scores;
      const due = lanes ? dueMembers(lanes, behind, limit - taken.length) : [];
      if (!lanes || due.length === 0) break;
      const served = taken.length;
      for (const lane of due) {
        const work = this.entryOf(lanePrefix + lane, "zset")?.scores;
        const [head] = work ? dueMembers(work, now, 1) : [];
        if (work && head !== undefined) {
          work.set(head, leaseUntil);
          taken.push({ lane, member: head });
        }
        const low = work ? lowestOf(work) : null;
        if (low === null) lanes.delete(lane);
        else lanes.set(lane, head !== undefined && low <= now ? behind : low);
      }
      if (lanes.size === 0) this.entries.delete(lanesKey);
      if (taken.length === served) break;
    }
    return taken;
  }

  async replaceScore(key: string, member: string, expected: number, next: number): Promise<boolean> {
    checkScore(expected);
    checkScore(next);
    const scores = this.entryOf(key, "zset")?.scores;
    if (scores?.get(member) !== expected) return false;
    scores.set(member, next);
    return true;
  }

  async rangeByScoreDesc(key: string, max: number, min: number, limit: number): Promise<string[]> {
    checkScore(max);
    checkScore(min);
    checkCount("limit", limit);
    const scores = this.entryOf(key, "zset")?.scores;
    if (!scores) return [];
    return [...scores]
      .filter(([, score]) => score >= min && score <= max)
      .sort((a, b) => byScoreThenMember(b, a))
      .slice(0, limit)
      .map(([member]) => member);
  }

  async zcard(key: string): Promise<number> {
    return this.entryOf(key, "zset")?.scores.size ?? 0;
  }

  async zscore(key: string, member: string): Promise<number | null> {
    return this.entryOf(key, "zset")?.scores.get(member) ?? null;
  }

  async lowestScore(key: string): Promise<number | null> {
    const scores = this.entryOf(key, "zset")?.scores;
    return scores ? lowestOf(scores) : null;
  }

  async readStreamTail(key: string, count: number): Promise<StreamEntry[]> {
    checkCount("count", count);
    const entries = this.entryOf(key, "stream")?.entries ?? [];
    return count === 0 ? [] : entries.slice(-count).map(({ id, fields }) => ({ id, fields: { ...fields } }));
  }

  async streamLength(key: string): Promise<number> {
    return this.entryOf(key, "stream")?.entries.length ?? 0;
  }

  async ping(): Promise<boolean> {
    return true;
  }

  reachable(): boolean {
    return true;
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
  }

  private apply(op: WriteOp): void {
    switch (op.op) {
      case "set":
        this.setString(op.key, op.value, ttlMillis(op.ttlSeconds));
        return;
      case "del":
        this.entries.delete(op.key);
        return;
      case "zadd": {
        let zset = this.entryOf(op.key, "zset");
        if (!zset) {
          zset = { kind: "zset", scores: new Map([[op.member, op.score]]) };
          this.add(op.key, zset);
        } else {
          const current = zset.scores.get(op.member);
          const keep = current !== undefined && (op.onlyIfAbsent || (op.onlyIfLower && current <= op.score));
          if (!keep) zset.scores.set(op.member, op.score);
        }
        const ttlMs = ttlMillis(op.ttlSeconds);
        if (ttlMs !== undefined) zset.expiresAt = this.now() + ttlMs;
        return;
      }
      case "zrem": {
        const scores = this.entryOf(op.key, "zset")?.scores;
        scores?.delete(op.member);
        // Redis deletes a sorted set with its last member.
        if (scores?.size === 0) this.entries.delete(op.key);
        return;
      }
      case "zremBelow": {
        const scores = this.entryOf(op.key, "zset")?.scores;
        for (const [member, score] of scores ?? []) if (score < op.score) scores?.delete(member);
        if (scores?.size === 0) this.entries.delete(op.key);
        return;
      }
      case "xadd":
        this.appendToStream(op.key, op.fields, op.maxLen);
        return;
    }
  }

  private appendToStream(key: string, fields: Record<string, string>, maxLen: number | undefined): void {
    let stream = this.entryOf(key, "stream");
    if (!stream) {
      stream = { kind: "stream", entries: [], lastMs: 0, lastSeq: -1 };
      this.add(key, stream);
    }
    // Ids as Redis makes them: "<ms>-<seq>", strictly increasing even if the clock stalls or steps back.
    const ms = Math.max(this.now(), stream.lastMs);
    stream.lastSeq = ms === stream.lastMs ? stream.lastSeq + 1 : 0;
    stream.lastMs = ms;
    stream.entries.push({ id: `${ms}-${stream.lastSeq}`, fields: { ...fields } });
    if (maxLen !== undefined && stream.entries.length > maxLen) {
      stream.entries.splice(0, stream.entries.length - maxLen);
    }
  }

  private setString(key: string, value: string, ttlMs: number | undefined): void {
    this.add(key, { kind: "string", value, expiresAt: ttlMs === undefined ? undefined : this.now() + ttlMs });
  }

  /** (Re)writes a key as the most recently written one, making room first when the store is full. */
  private add(key: string, entry: Entry): void {
    // Deleted first so the key moves to the end of the map's order: the map is oldest-written first.
    if (!this.entries.delete(key) && this.entries.size >= this.maxEntries) this.makeRoom();
    this.entries.set(key, entry);
  }

  /** One key out, the oldest written that has a TTL (expired ones included); none if only lasting keys are left. */
  private makeRoom(): void {
    this.warnFull();
    for (const [key, entry] of this.entries) {
      if (entry.kind === "stream" || entry.expiresAt === undefined) continue;
      this.entries.delete(key);
      return;
    }
  }

  private warnFull(): void {
    if (this.warnedFull) return;
    this.warnedFull = true;
    this.log?.warn(
      { store: "memory", maxEntries: this.maxEntries },
      "memory store full: evicting the oldest records that have a TTL (old dispatch records and payloads); set REDIS_URL to keep more",
    );
  }

  private sweep(now: number): void {
    for (const [key, entry] of this.entries) if (this.isExpired(entry, now)) this.entries.delete(key);
  }

  private isExpired(entry: Entry, now: number): boolean {
    return entry.kind !== "stream" && entry.expiresAt !== undefined && entry.expiresAt <= now;
  }

  /** The key's entry unless it has expired (then it is dropped, as Redis does on access). */
  private live(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry && this.isExpired(entry, this.now())) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  private entryOf<K extends Kind>(key: string, kind: K): Extract<Entry, { kind: K }> | undefined {
    const entry = this.live(key);
    if (!entry) return undefined;
    if (entry.kind !== kind) throw new Error(`WRONGTYPE ${key} holds a ${entry.kind}, not a ${kind}`);
    return entry as Extract<Entry, { kind: K }>;
  }
}
