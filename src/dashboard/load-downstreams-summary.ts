import { z } from "zod";
import { DEFAULT_WINDOW_DAYS, MAX_WINDOW_DAYS } from "../config/levels-config";
import type { RelayConfig } from "../config/types";
import { RelayError } from "../errors/failure-kinds";
import { listDispatchIds, readDispatches } from "../records/dispatches";
import type { Store } from "../store/store";
import { jobsOf } from "./list-runs";
import { summarizeDownstreams, type DispatchHistory, type DownstreamsSummary } from "./summarize-downstreams";

/**
 * The newest dispatches of one downstream's window read at most: bounds one request's cost however
 * busy a downstream is; a downstream over it is marked `truncated`.
 */
export const EVIDENCE_MAX_DISPATCHES = 2_000;

const summaryQuerySchema = z.object({
  // Records live MAX_WINDOW_DAYS: a longer window would claim evidence that is gone.
  window_days: z.coerce.number().int().min(1).max(MAX_WINDOW_DAYS).optional(),
});

/** `?window_days=N` overrides the config's `levels.window_days`; absent: undefined. */
export function parseSummaryQuery(query: unknown): { windowDays: number | undefined } {
  const parsed = summaryQuerySchema.safeParse(query);
  if (!parsed.success) {
    throw new RelayError(
      "validation-failed",
      parsed.error.issues.map((i) => `${i.path.join(".") || "query"}: ${i.message}`).join("; "),
    );
  }
  return { windowDays: parsed.data.window_days };
}

/**
 * Reads each configured downstream's dispatch and job records of the window (its own index, newest
 * first, at most EVIDENCE_MAX_DISPATCHES) and summarises them against its level's thresholds (SPEC §7).
 * The window is the config's `levels.window_days` unless `windowDays` is given.
 */
export async function loadDownstreamsSummary(
  store: Store,
  config: RelayConfig | null,
  windowDays: number | undefined,
  now: number,
): Promise<DownstreamsSummary> {
  if (config === null) return { windowDays: windowDays ?? DEFAULT_WINDOW_DAYS, downstreams: [] };
  const days = windowDays ?? config.levels.windowDays;
  const since = now - days * 86_400_000;
  const truncated = new Set<string>();
  const perDownstream = await Promise.all(
    config.downstreams.map(async (downstream): Promise<DispatchHistory[]> => {
      const ids = await listDispatchIds(store, { downstream: downstream.repo }, EVIDENCE_MAX_DISPATCHES, now, since);
      if (ids.length === EVIDENCE_MAX_DISPATCHES) truncated.add(downstream.repo.toLowerCase());
      const records = await readDispatches(store, ids);
      return Promise.all(records.map(async (record) => ({ record, jobs: await jobsOf(store, record.requestId) })));
    }),
  );
  return summarizeDownstreams(
    { downstreams: config.downstreams, levels: config.levels, history: perDownstream.flat(), truncated },
    days,
    now,
  );
}
