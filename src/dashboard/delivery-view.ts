import { z } from "zod";
import type { Transport } from "../config/types";
import { RelayError } from "../errors/failure-kinds";
import type { Outbox, OutboxTask } from "../outbox/outbox";
import {
  listDeliveryIds,
  readDeliverySummaries,
  readDeliverySummary,
  type DeliverySummary,
  type DeliverySummaryEntry,
} from "../records/deliveries";
import { readEachDispatch, type DispatchRecord } from "../records/dispatches";
import { dispatchTaskId } from "../relay/relay-delivery";
import type { Store } from "../store/store";
import type { Level } from "../vocabulary/levels";

export type DownstreamOutcome = "dispatched" | "queued" | "retrying" | "failed" | "superseded" | "skipped";

/** SPEC §7 `GET /relay/v1/deliveries/{id}`, one downstream. */
export interface DeliveryDownstreamView {
  repo: string;
  level: Level;
  transport: Transport;
  outcome: DownstreamOutcome;
  /** the skip reason (SPEC §7 word), `label-missing` on a dispatched L3, or the last error while retrying or failed */
  reason: string | null;
  /** the decision in a sentence */
  detail: string | null;
  dispatchId: string | null;
  /** failed attempts so far, for a dispatch the relay is still retrying or gave up on */
  attempts: number | null;
}

export interface DeliveryView {
  deliveryId: string;
  event: DeliverySummary["event"];
  action: string | null;
  /** when this relay received the delivery (GitHub sends no delivery time with a webhook) */
  receivedAt: string;
  /** GitHub's time for the event in the payload (`pull_request.updated_at`, a push's `repository.pushed_at`) */
  eventAt: string | null;
  upstream: { repo: string; sha: string; ref: string; pr_number: number | null };
  downstreams: DeliveryDownstreamView[];
}

/** GitHub's `X-GitHub-Delivery` is a GUID; nothing else names a delivery. */
const deliveryIdSchema = z.guid({ error: "must be a GitHub delivery id (a GUID)" });

export function parseDeliveryId(id: unknown): string {
  const parsed = deliveryIdSchema.safeParse(id);
  if (!parsed.success)
    throw new RelayError("validation-failed", `delivery id: ${parsed.error.issues[0]?.message ?? "invalid"}`);
  return parsed.data.toLowerCase();
}

const listQuerySchema = z
  .object({
    upstream: z
      .string()
      .regex(/^[\w.-]+\/[\w.-]+$/, { error: "must look like owner/repo" })
      .optional(),
    pr: z.coerce.number().int().positive().optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
  })
  .refine((q) => q.pr === undefined || q.upstream !== undefined, { error: "pr needs upstream" });

export type DeliveriesQuery = z.infer<typeof listQuerySchema>;

export function parseDeliveriesQuery(query: unknown): DeliveriesQuery {
  const parsed = listQuerySchema.safeParse(query);
  if (!parsed.success) {
    throw new RelayError(
      "validation-failed",
      parsed.error.issues.map((i) => `${i.path.join(".") || "query"}: ${i.message}`).join("; "),
    );
  }
  return parsed.data;
}

/** One delivery's explanation with the live state of its dispatches; null when the relay has none. */
export async function readDelivery(store: Store, outbox: Outbox, deliveryId: string): Promise<DeliveryView | null> {
  const summary = await readDeliverySummary(store, deliveryId);
  return summary && deliveryView(store, outbox, summary);
}

/**
 * A PR's deliveries in the order the relay received them (`upstream` and `pr`), or the most recent
 * deliveries newest first. Reads indexes only: cost grows with `limit`, not with history.
 */
export async function listDeliveries(store: Store, outbox: Outbox, query: DeliveriesQuery): Promise<DeliveryView[]> {
  const forPr = query.upstream !== undefined && query.pr !== undefined;
  const index = forPr ? { repo: query.upstream ?? "", pr: query.pr ?? 0 } : ({ all: true } as const);
  // Without a PR, an upstream filter applies after reading: fetch more to fill the page.
  const overscan = !forPr && query.upstream ? 4 : 1;
  const ids = await listDeliveryIds(store, index, query.limit * overscan);
  const summaries = (await readDeliverySummaries(store, ids))
    .filter((s) => !query.upstream || s.upstream.repo.toLowerCase() === query.upstream.toLowerCase())
    .slice(0, query.limit);
  if (forPr) summaries.reverse();
  return Promise.all(summaries.map((s) => deliveryView(store, outbox, s)));
}

async function deliveryView(store: Store, outbox: Outbox, summary: DeliverySummary): Promise<DeliveryView> {
  const records = await readEachDispatch(
    store,
    summary.downstreams.map((d) => d.dispatchId),
  );
  const downstreams = await Promise.all(
    summary.downstreams.map(async (entry, i) => {
      const record = records[i];
      // A sent dispatch's task is gone; one pending or given up tells its attempts and last error.
      const unsent = record !== null && record.state !== "dispatched";
      const task = unsent ? await outbox.peek(dispatchTaskId(entry.transport, summary.deliveryId, entry.repo)) : null;
      return downstreamView(entry, record, task);
    }),
  );
  const { upstream } = summary;
  return {
    deliveryId: summary.deliveryId,
    event: summary.event,
    action: summary.action,
    receivedAt: new Date(summary.receivedAt).toISOString(),
    eventAt: summary.eventAt === null ? null : new Date(summary.eventAt).toISOString(),
    upstream: { repo: upstream.repo, sha: upstream.sha, ref: upstream.ref, pr_number: upstream.prNumber },
    downstreams,
  };
}

/**
 * A downstream's outcome now: the decision, then for a dispatch its record's state. Pure.
 * `queued` is planned and waiting in the relay's outbox, not yet tried; `dispatched` is sent (a
 * repository_dispatch, or a job request on the queue stream); `retrying` has failed at least once.
 */
export function downstreamView(
  entry: DeliverySummaryEntry,
  record: DispatchRecord | null,
  task: OutboxTask | null,
): DeliveryDownstreamView {
  const base = {
    repo: entry.repo,
    level: entry.level,
    transport: entry.transport,
    detail: entry.detail,
    dispatchId: entry.dispatchId,
  };
  if (!entry.dispatched) return { ...base, outcome: "skipped", reason: entry.reason, attempts: null };
  if (record?.state === "superseded")
    return { ...base, outcome: "superseded", reason: `newer head ${record.supersededBy ?? "commit"}`, attempts: null };
  if (record?.state === "failed")
    return { ...base, outcome: "failed", reason: record.lastError, attempts: task?.attempts ?? null };
  if (record?.state === "pending") {
    const lastError = record.lastError ?? task?.lastError ?? null;
    if (lastError !== null)
      return { ...base, outcome: "retrying", reason: lastError, attempts: task?.attempts ?? null };
    return { ...base, outcome: "queued", reason: entry.reason, attempts: null };
  }
  // Sent, or its record has expired (it lives as long as this summary): it was planned and stored.
  return { ...base, outcome: "dispatched", reason: entry.reason, attempts: null };
}
