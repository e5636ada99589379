import { z } from "zod";
import type { RelayConfig } from "../config/types";
import { RelayError } from "../http/failure-kinds";
import { listDispatchIds, readDispatches, RECORD_TTL_SECONDS } from "../records/dispatches";
import type { Store } from "../store/store";
import { jobsOf } from "./list-runs";
import { DEFAULT_WINDOW_DAYS, summarizeDownstreams, type DownstreamsSummary } from "./summarize-downstreams";

/** The newest dispatches of the window read at most: bounds one request's cost however busy the relay is. */
export const SUMMARY_MAX_DISPATCHES = 2_000;

const summaryQuerySchema = z.object({
  // Records live RECORD_TTL_SECONDS: a longer window would claim evidence that is gone.
  window_days: z.coerce
    .number()
    .int()
    .min(1)
    .max(RECORD_TTL_SECONDS / 86_400)
    .default(DEFAULT_WINDOW_DAYS),
});

export function parseSummaryQuery(query: unknown): { windowDays: number } {
  const parsed = summaryQuerySchema.safeParse(query);
  if (!parsed.success) {
    throw new RelayError("validation-failed", parsed.error.issues.map((i) => `${i.path.join(".") || "query"}: ${i.message}`).join("; "));
  }
  return { windowDays: parsed.data.window_days };
}

/** Reads the window's dispatch and job records and summarises them per configured downstream (SPEC §7). */
export async function loadDownstreamsSummary(store: Store, config: RelayConfig | null, windowDays: number, now: number): Promise<DownstreamsSummary> {
  if (config === null) return { windowDays, downstreams: [] };
  const ids = await listDispatchIds(store, { all: true }, SUMMARY_MAX_DISPATCHES, now, now - windowDays * 86_400_000);
  const records = await readDispatches(store, ids);
  const history = await Promise.all(records.map(async (record) => ({ record, jobs: await jobsOf(store, record.requestId) })));
  return summarizeDownstreams(config.downstreams, history, windowDays, now);
}
