import type { LevelThresholds, ThresholdName } from "../config/levels-config";

/** The part of a downstream's summary (SPEC §7) that thresholds are judged on. */
export interface LevelEvidence {
  dispatches: number;
  successRate: number | null;
  pickupRate: number | null;
  timeouts: number;
  queueSeconds: { p95: number | null };
  executionSeconds: { p95: number | null };
}

/** One threshold the evidence does not meet: what it asks, and what the window shows (null: no evidence). */
export interface FailedThreshold {
  threshold: ThresholdName;
  required: number;
  actual: number | null;
}

export interface LevelJudgement {
  meets: boolean;
  failed: FailedThreshold[];
}

type Measure = (evidence: LevelEvidence) => number | null;

/** Each threshold: what it measures (in its own unit), which way it points, and whether it is minutes. */
const THRESHOLDS: Record<ThresholdName, { measure: Measure; at: "least" | "most"; minutes?: true }> = {
  min_dispatches: { measure: (e) => e.dispatches, at: "least" },
  min_success_rate: { measure: (e) => e.successRate, at: "least" },
  min_pickup_rate: { measure: (e) => e.pickupRate, at: "least" },
  max_p95_queue_minutes: { measure: (e) => minutes(e.queueSeconds.p95), at: "most", minutes: true },
  max_p95_execution_minutes: { measure: (e) => minutes(e.executionSeconds.p95), at: "most", minutes: true },
  max_timeouts: { measure: (e) => e.timeouts, at: "most" },
};

/**
 * Judges one downstream's evidence against the thresholds of a level, in the order the thresholds
 * are listed above. A threshold without evidence (a rate or p95 of null) fails. Pure.
 */
export function judgeLevel(evidence: LevelEvidence, thresholds: LevelThresholds | undefined): LevelJudgement {
  const failed: FailedThreshold[] = [];
  for (const name of Object.keys(THRESHOLDS) as ThresholdName[]) {
    const required = thresholds?.[name];
    if (required === undefined) continue;
    const { measure, at, minutes: inMinutes } = THRESHOLDS[name];
    const actual = measure(evidence);
    const met = actual !== null && (at === "least" ? actual >= required : actual <= required);
    // Compared unrounded (60.004 minutes is over a 60-minute limit), shown to the hundredth of a minute.
    const shown = actual !== null && inMinutes ? Math.round(actual * 100) / 100 : actual;
    if (!met) failed.push({ threshold: name, required, actual: shown });
  }
  return { meets: failed.length === 0, failed };
}

function minutes(seconds: number | null): number | null {
  return seconds === null ? null : seconds / 60;
}
