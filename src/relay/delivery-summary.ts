import { z } from "zod";
import { LEVELS, type Level, type Transport } from "../config/types";
import type { WriteOp } from "../store/store";
import { RECORD_TTL_SECONDS } from "./dispatch-record";
import { SKIP_REASONS, type DeliveryExplanation, type DispatchNote, type SkipReason } from "./explain-delivery";
import type { UpstreamEvent } from "./upstream-event";

/**
 * What the relay decided for one verified delivery, per configured downstream (SPEC §7 "Why not?").
 * Written once per decision, for relayed and skipped deliveries alike, and kept as long as the
 * dispatch records. The live state of a dispatch (sent, retrying, given up) is read from its dispatch
 * record when the summary is shown, so this record never needs updating.
 */
export interface DeliverySummary {
  deliveryId: string;
  event: UpstreamEvent["event"];
  action: string | null;
  /**
   * When this relay received the delivery (epoch ms, the relay's clock). GitHub sends no delivery
   * time with a webhook (its `delivered_at` exists only in the deliveries API); this is the moment
   * the relay got the request that was decided, never when a later write stored something.
   */
  receivedAt: number;
  /** GitHub's own time for the event, from the payload (see `githubEventTime`); null when it has none */
  eventAt: number | null;
  upstream: { repo: string; sha: string; ref: string; prNumber: number | null };
  downstreams: DeliverySummaryEntry[];
}

export interface DeliverySummaryEntry {
  /** the config's spelling */
  repo: string;
  level: Level;
  transport: Transport;
  dispatched: boolean;
  /** a skip reason (SPEC §7), or `label-missing` on a dispatched L3 downstream; null otherwise */
  reason: SkipReason | DispatchNote | null;
  /** the same in a sentence for people */
  detail: string | null;
  /** the dispatch's request id when dispatched */
  dispatchId: string | null;
}

export const deliverySummaryKey = (deliveryId: string) => `relay:explain:${deliveryId}`;
export const DELIVERIES_INDEX = "relay:explain:recent";
export const deliveriesByPrKey = (repo: string, pr: number) => `relay:explain:pr:${repo.toLowerCase()}:${pr}`;

/** The summary of a decided delivery; `dispatchIds` maps a dispatched downstream's repo to its request id. */
export function buildDeliverySummary(
  delivery: { id: string; receivedAt: number; eventAt: number | null },
  event: UpstreamEvent,
  explanation: DeliveryExplanation,
  dispatchIds: ReadonlyMap<string, string> = new Map(),
): DeliverySummary {
  return {
    deliveryId: delivery.id,
    event: event.event,
    action: event.action,
    receivedAt: delivery.receivedAt,
    eventAt: delivery.eventAt,
    upstream: { repo: event.repo, sha: event.sha, ref: event.ref, prNumber: event.prNumber },
    downstreams: explanation.downstreams.map((d) => ({
      repo: d.downstream.repo,
      level: d.downstream.level,
      transport: d.downstream.transport,
      dispatched: d.dispatch,
      reason: d.dispatch ? d.note : d.reason,
      detail: d.detail,
      dispatchId: d.dispatch ? (dispatchIds.get(d.downstream.repo) ?? null) : null,
    })),
  };
}

/** Ops storing a summary and indexing it by time and, for a PR (or a ciflow tag's PR), by PR. */
export function deliverySummaryOps(summary: DeliverySummary): WriteOp[] {
  const ttlSeconds = RECORD_TTL_SECONDS;
  const { deliveryId, receivedAt, upstream } = summary;
  const ops: WriteOp[] = [
    { op: "set", key: deliverySummaryKey(deliveryId), value: JSON.stringify(summary), ttlSeconds },
    // The index of all deliveries outlives any one summary: trim it to their lifetime instead.
    { op: "zadd", key: DELIVERIES_INDEX, member: deliveryId, score: receivedAt },
    { op: "zremBelow", key: DELIVERIES_INDEX, score: receivedAt - ttlSeconds * 1000 },
  ];
  if (upstream.prNumber !== null) {
    ops.push({ op: "zadd", key: deliveriesByPrKey(upstream.repo, upstream.prNumber), member: deliveryId, score: receivedAt, ttlSeconds });
  }
  return ops;
}

const summarySchema = z.object({
  deliveryId: z.string(),
  event: z.enum(["pull_request", "push"]),
  action: z.string().nullable(),
  receivedAt: z.number(),
  eventAt: z.number().nullable(),
  upstream: z.object({ repo: z.string(), sha: z.string(), ref: z.string(), prNumber: z.number().nullable() }),
  downstreams: z.array(
    z.object({
      repo: z.string(),
      level: z.enum(LEVELS),
      transport: z.enum(["dispatch", "queue"]),
      dispatched: z.boolean(),
      reason: z.union([z.enum(SKIP_REASONS), z.literal("label-missing")]).nullable(),
      detail: z.string().nullable(),
      dispatchId: z.string().nullable(),
    }),
  ),
});

/** A stored summary, or null when absent or not one this relay wrote. */
export function parseDeliverySummary(raw: string | null): DeliverySummary | null {
  if (raw === null) return null;
  try {
    const parsed = summarySchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
