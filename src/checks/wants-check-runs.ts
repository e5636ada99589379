import type { Downstream, Level, RelayConfig } from "../config/types";

/**
 * SPEC §3: whether a downstream's results show as check runs on the upstream commit, given the PR's
 * labels (none for a push). L4 always; L3 only with `<label_prefix><device>`; L1 and L2 never. Pure.
 */
export function wantsCheckRuns(config: Pick<RelayConfig, "labelPrefix">, downstream: Pick<Downstream, "level" | "device">, labels: readonly string[]): boolean {
  if (downstream.level === "L4") return true;
  if (downstream.level !== "L3" || downstream.device === undefined) return false;
  return labels.includes(`${config.labelPrefix}${downstream.device}`);
}

/** Levels whose check-run state is kept even while no check is shown: an L3 label may come later. */
export function tracksCheckRuns(level: Level): boolean {
  return level === "L3" || level === "L4";
}
