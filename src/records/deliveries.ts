import { z } from "zod";
import { LEVELS } from "../vocabulary/levels";
import { SKIP_REASONS, type DispatchNote, type SkipReason } from "../vocabulary/skip-reasons";
import type { Store, WriteOp } from "../store/store";
import { RECORD_TTL_SECONDS } from "./dispatches";
import { keys } from "./keys";
import { readRecord } from "./read-record";

/**
 * Delivery records: the claim that makes a delivery relayed once (a lease, then "done"), the payload
 * as it came, and the summary of what the relay decided for it (SPEC §7 "Why not?"), indexed by time
 * and by PR. The live state of a dispatch is read from its dispatch record when a summary is shown,
 * so a summary is written once and never updated.
 */
export const deliverySummarySchema = z.object({
  deliveryId: z.string(),
  event: z.enum(["pull_request", "push"]),
  action: z.string().nullable(),
  /**
   * When this relay received the delivery (epoch ms, the relay's clock). GitHub sends no delivery
   * time with a webhook (its `delivered_at` exists only in the deliveries API); this is the moment
   * the relay got the request that was decided, never when a later write stored something.
   */
  receivedAt: z.number(),
  /** GitHub's own time for the event, from the payload (see `githubEventTime`); null when it has none */
  eventAt: z.number().nullable(),
  upstream: z.object({ repo: z.string(), sha: z.string(), ref: z.string(), prNumber: z.number().nullable() }),
  downstreams: z.array(
    z.object({
      /** the config's spelling */
      repo: z.string(),
      level: z.enum(LEVELS),
      transport: z.enum(["dispatch", "queue"]),
      dispatched: z.boolean(),
      /** a skip reason (SPEC §7), or `label-missing` on a dispatched L3 downstream; null otherwise */
      reason: z.union([z.enum(SKIP_REASONS), z.literal("label-missing" satisfies DispatchNote)]).nullable(),
      /** the same in a sentence for people */
      detail: z.string().nullable(),
      /** the dispatch's request id when dispatched */
      dispatchId: z.string().nullable(),
    }),
  ),
});
export type DeliverySummary = z.infer<typeof deliverySummarySchema>;
export type DeliverySummaryEntry = DeliverySummary["downstreams"][number];
export type { SkipReason };

/** GitHub lets people redeliver for days; remember accepted deliveries longer than that. */
const DELIVERY_MEMORY_SECONDS = 8 * 24 * 3600;
/** The value of a claim whose delivery is stored. */
const DONE = "done";

/** Claims a delivery for `leaseSeconds` under a claim value of the caller's own; true when taken. */
export function claimDelivery(
  store: Pick<Store, "setIfAbsent">,
  deliveryId: string,
  claim: string,
  leaseSeconds: number,
): Promise<boolean> {
  return store.setIfAbsent(keys.deliveries.claim(deliveryId), claim, leaseSeconds);
}

/** The claim's state: "done" once the delivery is stored, null when free, else another holder's claim. */
export async function deliveryClaimState(
  store: Pick<Store, "get">,
  deliveryId: string,
): Promise<"done" | "free" | "held"> {
  const value = await store.get(keys.deliveries.claim(deliveryId));
  return value === DONE ? "done" : value === null ? "free" : "held";
}

/** For each delivery id, in order: has the relay claimed it (stored, or being stored). */
export async function deliveriesClaimed(store: Pick<Store, "getMany">, deliveryIds: string[]): Promise<boolean[]> {
  return (await store.getMany(deliveryIds.map(keys.deliveries.claim))).map((value) => value !== null);
}

/**
 * Applies `ops` and marks the delivery "done", only while `claim` (null: no claim at all) is still
 * the delivery's; true when applied.
 */
export function completeDelivery(
  store: Pick<Store, "writeIf">,
  deliveryId: string,
  claim: string | null,
  ops: WriteOp[],
): Promise<boolean> {
  const key = keys.deliveries.claim(deliveryId);
  return store.writeIf(key, claim, [...ops, { op: "set", key, value: DONE, ttlSeconds: DELIVERY_MEMORY_SECONDS }]);
}

/** Applies `ops` only while the delivery was never claimed (a skipped delivery's summary). */
export function writeIfDeliveryUnclaimed(
  store: Pick<Store, "writeIf">,
  deliveryId: string,
  ops: WriteOp[],
): Promise<boolean> {
  return store.writeIf(keys.deliveries.claim(deliveryId), null, ops);
}

/** Gives the claim up, if it is still `claim`. */
export async function releaseDelivery(store: Pick<Store, "writeIf">, deliveryId: string, claim: string): Promise<void> {
  const key = keys.deliveries.claim(deliveryId);
  await store.writeIf(key, claim, [{ op: "del", key }]);
}

/** Stores the payload as it came (the verified body), for the tasks that send it on. */
export function deliveryPayloadOp(deliveryId: string, text: string): WriteOp {
  return { op: "set", key: keys.deliveries.payload(deliveryId), value: text, ttlSeconds: RECORD_TTL_SECONDS };
}

/** The stored payload; `{}` when it has expired. */
export async function readDeliveryPayload(
  store: Pick<Store, "get">,
  deliveryId: string,
): Promise<Record<string, unknown>> {
  const payload = readRecord(
    "delivery payload",
    z.record(z.string(), z.unknown()),
    await store.get(keys.deliveries.payload(deliveryId)),
  );
  return payload ?? {};
}

/** Ops storing a summary and indexing it by time and, for a PR (or a ciflow tag's PR), by PR. */
export function deliverySummaryOps(summary: DeliverySummary): WriteOp[] {
  const ttlSeconds = RECORD_TTL_SECONDS;
  const { deliveryId, receivedAt, upstream } = summary;
  const ops: WriteOp[] = [
    { op: "set", key: keys.deliveries.summary(deliveryId), value: JSON.stringify(summary), ttlSeconds },
    // The index of all deliveries outlives any one summary: trim it to their lifetime instead.
    { op: "zadd", key: keys.deliveries.recent, member: deliveryId, score: receivedAt },
    { op: "zremBelow", key: keys.deliveries.recent, score: receivedAt - ttlSeconds * 1000 },
  ];
  if (upstream.prNumber !== null) {
    ops.push({
      op: "zadd",
      key: keys.deliveries.byPr(upstream.repo, upstream.prNumber),
      member: deliveryId,
      score: receivedAt,
      ttlSeconds,
    });
  }
  return ops;
}

/**
 * A stored summary, or null when absent or not one this relay wrote: summaries are only shown, so a
 * foreign one is left out of the dashboard rather than failing it.
 */
export function parseDeliverySummary(raw: string | null): DeliverySummary | null {
  try {
    return readRecord("delivery summary", deliverySummarySchema, raw);
  } catch {
    return null;
  }
}

export async function readDeliverySummary(
  store: Pick<Store, "get">,
  deliveryId: string,
): Promise<DeliverySummary | null> {
  return parseDeliverySummary(await store.get(keys.deliveries.summary(deliveryId)));
}

/** The summaries of `deliveryIds` that exist and are readable, in order. */
export async function readDeliverySummaries(
  store: Pick<Store, "getMany">,
  deliveryIds: string[],
): Promise<DeliverySummary[]> {
  return (await store.getMany(deliveryIds.map(keys.deliveries.summary)))
    .map(parseDeliverySummary)
    .filter((s): s is DeliverySummary => s !== null);
}

/** Delivery ids, newest first: all recent ones, or one PR's. */
export function listDeliveryIds(
  store: Pick<Store, "rangeByScoreDesc">,
  index: { all: true } | { repo: string; pr: number },
  limit: number,
): Promise<string[]> {
  const key = "all" in index ? keys.deliveries.recent : keys.deliveries.byPr(index.repo, index.pr);
  return store.rangeByScoreDesc(key, Infinity, -Infinity, limit);
}
