import type { ThresholdName } from "../config/levels-config";
import type { FailedThreshold } from "./judge-level";

const WORDS: Record<ThresholdName, { what: string; unit: (n: number) => string; sign: "<" | ">" }> = {
  min_dispatches: { what: "dispatches", unit: String, sign: "<" },
  min_success_rate: { what: "success rate", unit: (n) => `${Math.round(n * 1000) / 10}%`, sign: "<" },
  min_pickup_rate: { what: "pickup rate", unit: (n) => `${Math.round(n * 1000) / 10}%`, sign: "<" },
  max_p95_queue_minutes: { what: "p95 queue", unit: (n) => `${n} min`, sign: ">" },
  max_p95_execution_minutes: { what: "p95 execution", unit: (n) => `${n} min`, sign: ">" },
  max_timeouts: { what: "timeouts", unit: String, sign: ">" },
};

/** A failed threshold in plain words, as the page and `levels --plan` show it: "success rate 50% < 90%". */
export function describeFailedThreshold({ threshold, required, actual }: FailedThreshold): string {
  const { what, unit, sign } = WORDS[threshold];
  return actual === null
    ? `${what}: no evidence (needs ${sign === "<" ? "≥" : "≤"} ${unit(required)})`
    : `${what} ${unit(actual)} ${sign} ${unit(required)}`;
}
