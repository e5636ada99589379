/**
 * levels/ owns level advice: judging a downstream's evidence window against its level's thresholds
 * (pure), saying which threshold failed, and the config edit (with its diff) that `ci-relay levels
 * --plan` suggests. The evidence index itself is a dispatch record's (relay/dispatch-record.ts).
 */
import type { LevelsConfig } from "../config/levels-config";
import { sameRepo, type Downstream } from "../config/types";
import { describeFailedThreshold } from "./describe-failed-threshold";
import { judgeLevel, type LevelEvidence } from "./judge-level";
import { LEVELS, type Level } from "../vocabulary/levels";

/** One downstream's evidence as `GET /relay/v1/downstreams` gives it. */
export interface DownstreamEvidence extends LevelEvidence {
  repo: string;
}

/** A level change the evidence suggests, and why. */
export interface LevelChange {
  repo: string;
  from: Level;
  to: Level;
  kind: "promote" | "demote";
  /** the thresholds met (promote) or failed (demote), in plain words */
  why: string;
}

export interface LevelPlan {
  changes: LevelChange[];
  /** downstreams of the file the plan says nothing about, and why (no evidence, nightly-only) */
  notes: string[];
}

/**
 * What the evidence suggests for each downstream of the config, judged by the config's own `levels:`:
 * below its level's thresholds, one level down (never up); else meeting every threshold of the next
 * level (which must ask for at least one: a level that measures nothing is not earned), one level up.
 * Pure.
 */
export function planLevelChanges(
  downstreams: readonly Downstream[],
  levels: LevelsConfig,
  evidence: readonly DownstreamEvidence[],
): LevelPlan {
  const changes: LevelChange[] = [];
  const notes: string[] = [];
  for (const downstream of downstreams) {
    const { repo, level } = downstream;
    if (downstream.events.length === 0) {
      notes.push(`${repo}: nightly-only, never dispatched: no dispatch evidence to judge`);
      continue;
    }
    const found = evidence.find((row) => sameRepo(row.repo, repo));
    if (!found) {
      notes.push(`${repo}: the relay has no evidence for it (not in its config?)`);
      continue;
    }
    const index = LEVELS.indexOf(level);
    const own = judgeLevel(found, levels.thresholds[level]);
    const lower = LEVELS[index - 1];
    if (!own.meets) {
      const why = `below ${level}: ${own.failed.map(describeFailedThreshold).join("; ")}`;
      if (lower === undefined) notes.push(`${repo}: ${why}, and ${level} is the lowest level`);
      else changes.push({ repo, from: level, to: lower, kind: "demote", why });
      continue;
    }
    const higher = LEVELS[index + 1];
    const asked = higher === undefined ? {} : (levels.thresholds[higher] ?? {});
    if (higher === undefined || Object.keys(asked).length === 0) continue;
    if (judgeLevel(found, asked).meets) {
      const why = `meets ${higher}: ${Object.entries(asked)
        .map(([name, value]) => `${name} ${value}`)
        .join(", ")}`;
      changes.push({ repo, from: level, to: higher, kind: "promote", why });
    }
  }
  return { changes, notes };
}
