import type { Downstream, RelayConfig } from "../config/types";
import type { DispatchRecord } from "../records/dispatches";

/**
 * SPEC §3: whether a downstream's results show as check runs on the upstream commit, given the PR's
 * labels (none for a push). L4 always; L3 only with `<label_prefix><device>`; L1 and L2 never. Pure.
 */
export function wantsCheckRuns(
  config: Pick<RelayConfig, "labelPrefix">,
  downstream: Pick<Downstream, "level" | "device">,
  labels: readonly string[],
): boolean {
  if (downstream.level === "L4") return true;
  if (downstream.level !== "L3" || downstream.device === undefined) return false;
  return labels.includes(`${config.labelPrefix}${downstream.device}`);
}

/**
 * Dispatches whose check-run state is kept, even while no check is shown (an L3 label may come
 * later): L3 and L4, except for a closed PR. That dispatch only lets downstreams cancel; its checks
 * would turn the head SHA's finished (and possibly required) checks back to queued, then timed_out.
 */
export function tracksCheckRuns(record: Pick<DispatchRecord, "level" | "action">): boolean {
  return (record.level === "L3" || record.level === "L4") && record.action !== "closed";
}
