/**
 * store/ owns the Store port and its two implementations (Redis, memory): atomic multi-key writes,
 * compare-and-set, leased due-item claims, and what a Redis outage looks like. Keys and record shapes
 * belong to the domain records, not to the store.
 */
import type { SlotReservation } from "./next-slot";
import { LOST_RACE, retryContended } from "./retry-contended";

/**
 * The one interface to shared state. Two implementations: Redis (the real one, shared by every
 * process and Lambda instance) and an in-process memory store (single process, for local use and
 * tests). Both pass the same contract suite (test/store/store-contract.ts).
 *
 * Keys are given without the operator's REDIS_PREFIX; the store adds it. Every operation is atomic
 * on its own, and `write` applies a batch atomically: a crash leaves all of it or none of it.
 */
export type WriteOp =
  | { op: "set"; key: string; value: string; ttlSeconds?: number }
  | { op: "del"; key: string }
  /**
   * `ttlSeconds` (re)sets the whole sorted set's expiry: indexes live as long as what they index.
   * `onlyIfLower` (Redis's LT) adds a new member, and moves an existing one only to a lower score;
   * it cannot be combined with `onlyIfAbsent`.
   */
  | {
      op: "zadd";
      key: string;
      member: string;
      score: number;
      onlyIfAbsent?: boolean;
      onlyIfLower?: boolean;
      ttlSeconds?: number;
    }
  | { op: "zrem"; key: string; member: string }
  /** removes members scored below `score`: keeps time-scored indexes to a window */
  | { op: "zremBelow"; key: string; score: number }
  | { op: "xadd"; key: string; fields: Record<string, string>; maxLen?: number };

/** A rate window (a counter living `windowSeconds` from its first count) and the count it allows. */
export interface WindowLimit {
  key: string;
  windowSeconds: number;
  limit: number;
}

/** What `countThenWriteIf` did. */
export interface CountedWrite {
  count: number;
  /** the count was within the limit and the value as expected: the ops are applied */
  applied: boolean;
  /** the key's value as found, before the ops */
  current: string | null;
}

/** One member taken by `claimDueLanes`, and its lane. */
export interface LaneClaim {
  lane: string;
  member: string;
}

export interface StreamEntry {
  id: string;
  fields: Record<string, string>;
}

export interface Store {
  readonly kind: "redis" | "memory";

  get(key: string): Promise<string | null>;
  getMany(keys: string[]): Promise<(string | null)[]>;

  /** Sets key only when absent; true when this call set it. */
  setIfAbsent(key: string, value: string, ttlSeconds?: number): Promise<boolean>;

  /**
   * Replaces key's value only if it still equals `expected` (null: key absent); true when replaced.
   * The building block for race-free read-decide-write (see `updateWithRetry`).
   */
  compareAndSet(key: string, expected: string | null, next: string, ttlSeconds?: number): Promise<boolean>;

  /**
   * Applies `ops`, all or nothing, only if key's value still equals `expected` (null: absent); true
   * when applied. A state change and the side effects it causes (outbox tasks) commit together.
   */
  writeIf(key: string, expected: string | null, ops: WriteOp[]): Promise<boolean>;

  /** Applies every op, all or nothing. */
  write(ops: WriteOp[]): Promise<void>;

  /**
   * Counts in a rate window (as `incrementWindow`) and then, only while the count is within
   * `window.limit`, applies `ops` if key's value still equals `expected` (as `writeIf`). A
   * rate-limited read-decide-write in one round trip when the caller can guess the value (a record
   * not written yet: null); not applied, the answer holds the value found, to decide again on
   * without reading it. The count is the window's, this call included, whatever else happened.
   */
  countThenWriteIf(window: WindowLimit, key: string, expected: string | null, ops: WriteOp[]): Promise<CountedWrite>;

  /** Increments a counter that lives `windowSeconds` from its first increment; returns the new count. */
  incrementWindow(key: string, windowSeconds: number): Promise<number>;

  /**
   * Pacing shared by every process: reserves the earliest moment that is at least `intervalMs` after
   * the last one reserved on `key`, unless it is more than `maxWaitMs` away (then nothing is
   * reserved). Times come from the store's clock (Redis's), so processes with skewed clocks agree.
   * The key expires once its slot has passed; a lost key means "free now" (see `nextSlot`).
   */
  reserveSlot(key: string, intervalMs: number, maxWaitMs: number): Promise<SlotReservation>;

  /**
   * Lease for scheduled work: takes up to `limit` members of sorted set `key` whose score is <= now,
   * moves their score to `leaseUntil` (so no one else takes them meanwhile), and returns them.
   */
  claimDue(key: string, now: number, leaseUntil: number, limit: number): Promise<string[]>;

  /**
   * Round-robin lease over lanes of scheduled work. `lanesKey` is a sorted set of lane names scored
   * with a lower bound of when each lane has work due (the lane is visited no earlier); each lane's
   * work is the sorted set `lanePrefix + lane`. Up to `limit` members are taken, one per due lane per
   * round, lanes that have waited longest first, and leased like `claimDue`. A lane served moves
   * behind every lane still waiting (its score becomes `now` + 0.5, or its next due time if later); a lane
   * found with nothing due is rescored to its lowest score (lease ends included), or dropped when
   * empty. So work for a quiet lane is taken within one round, whatever another lane holds.
   */
  claimDueLanes(
    lanesKey: string,
    lanePrefix: string,
    now: number,
    leaseUntil: number,
    limit: number,
  ): Promise<LaneClaim[]>;

  /**
   * Sets member's score to `next` only if it is exactly `expected` now; true when set. A lease taken
   * with `claimDue` is renewed or released this way by its holder alone: once another process has
   * claimed the member (a new score), the old holder's renewal finds it changed and does nothing.
   */
  replaceScore(key: string, member: string, expected: number, next: number): Promise<boolean>;

  /** Members with min <= score <= max, highest score first. */
  rangeByScoreDesc(key: string, max: number, min: number, limit: number): Promise<string[]>;
  zcard(key: string): Promise<number>;
  zscore(key: string, member: string): Promise<number | null>;
  /** The lowest score in the sorted set (null when empty or absent): how long the oldest entry waited. */
  lowestScore(key: string): Promise<number | null>;

  /** Newest-last entries of a stream, up to `count` from the end. */
  readStreamTail(key: string, count: number): Promise<StreamEntry[]>;
  streamLength(key: string): Promise<number>;

  ping(): Promise<boolean>;
  /**
   * Cheap and synchronous (no round trip): false while the store knows its backend is unreachable
   * (a Redis outage, between the lost connection and the next successful one), true otherwise.
   */
  reachable(): boolean;
  close(): Promise<void>;
}

/**
 * Read-decide-write without races: `decide` sees the current value and returns the next one (or
 * undefined to leave it); retried when another writer got there first.
 */
export async function updateWithRetry<T>(
  store: Store,
  key: string,
  decide: (current: string | null) => { next?: string; result: T },
  ttlSeconds?: number,
  attempts = 20,
): Promise<T> {
  return retryContended(`update of ${key}`, attempts, async () => {
    const current = await store.get(key);
    const { next, result } = decide(current);
    return next === undefined || (await store.compareAndSet(key, current, next, ttlSeconds)) ? result : LOST_RACE;
  });
}
