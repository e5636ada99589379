import { z } from "zod";
import { RECORD_TTL_SECONDS } from "../records/dispatches";
import type { Level } from "../vocabulary/levels";

/** SPEC §7: the evidence window when `levels.window_days` is not given. */
export const DEFAULT_WINDOW_DAYS = 14;
/** Dispatch and job records live RECORD_TTL_SECONDS: a longer window would claim evidence that is gone. */
export const MAX_WINDOW_DAYS = RECORD_TTL_SECONDS / 86_400;

const rate = z.number().min(0).max(1);
const count = z.int().min(0);
const minutes = z.number().positive();

/**
 * What a level asks of a downstream's record over the window (SPEC §7). Every key is optional; a level
 * with none asks for nothing. A threshold the window holds no evidence for (no finished dispatch, no job
 * that reported a time) is not met: a level is earned by a record, not by silence.
 */
export const levelThresholdsSchema = z.strictObject({
  /** At least this many dispatches in the window, so the rates below rest on enough runs. */
  min_dispatches: count.optional(),
  /** Share of finished dispatches (success, failure, cancelled, timed out) that succeeded, 0..1. */
  min_success_rate: rate.optional(),
  /** Share of sent dispatches whose pickup is decided that got any callback, 0..1. */
  min_pickup_rate: rate.optional(),
  /** The p95 of the jobs' queue time (dispatch to start), in minutes, at most this. */
  max_p95_queue_minutes: minutes.optional(),
  /** The p95 of the jobs' execution time, in minutes, at most this. */
  max_p95_execution_minutes: minutes.optional(),
  /** At most this many dispatches timed out (not picked up, or no result within the job timeout). */
  max_timeouts: count.optional(),
});

export type LevelThresholds = z.output<typeof levelThresholdsSchema>;
export type ThresholdName = keyof LevelThresholds;

export const levelsSchema = z
  .strictObject({
    /** Thresholds per level. Default: none (every downstream meets its level). */
    L1: levelThresholdsSchema.optional(),
    L2: levelThresholdsSchema.optional(),
    L3: levelThresholdsSchema.optional(),
    L4: levelThresholdsSchema.optional(),
    /** Days of history the evidence covers, 1..30 (the records' lifetime). Default: 14. */
    window_days: z.int().min(1).max(MAX_WINDOW_DAYS).default(DEFAULT_WINDOW_DAYS),
  })
  .prefault({});

/** The normalised `levels:` section. */
export interface LevelsConfig {
  windowDays: number;
  thresholds: Partial<Record<Level, LevelThresholds>>;
}

export const DEFAULT_LEVELS: LevelsConfig = { windowDays: DEFAULT_WINDOW_DAYS, thresholds: {} };

export function toLevelsConfig(levels: z.output<typeof levelsSchema>): LevelsConfig {
  const { window_days, ...byLevel } = levels;
  const thresholds = Object.fromEntries(Object.entries(byLevel).filter(([, value]) => value !== undefined));
  return { windowDays: window_days, thresholds };
}
