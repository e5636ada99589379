import type { JobRequest } from "../queue/job-request";

export interface EntryFacts {
  /** the entry's fields as a valid job request, or null when they are not one */
  request: JobRequest | null;
  /** how often the consumer group has handed this entry out, this time included */
  deliveries: number;
  /** the downstream's `max_deliveries` */
  maxDeliveries: number;
  /** the label this worker serves; undefined serves every label */
  runsOn: string | undefined;
}

export type EntryDecision =
  | { action: "run"; request: JobRequest }
  /** for another label: acknowledged unrun in this worker's group (each label has its own group) */
  | { action: "skip" }
  | { action: "dead-letter"; reason: "invalid-entry" | "max-deliveries-exceeded" };

/**
 * What a worker does with an entry it was handed (new or reclaimed). An entry delivered more than
 * `max_deliveries` times moves to the dead-letter stream rather than run again: a job that kills its
 * worker every time must not keep a farm busy forever. Pure.
 */
export function decideEntry(facts: EntryFacts): EntryDecision {
  const { request } = facts;
  if (request === null) return { action: "dead-letter", reason: "invalid-entry" };
  if (facts.runsOn !== undefined && request.runs_on !== facts.runsOn) return { action: "skip" };
  if (facts.deliveries > facts.maxDeliveries) return { action: "dead-letter", reason: "max-deliveries-exceeded" };
  return { action: "run", request };
}
