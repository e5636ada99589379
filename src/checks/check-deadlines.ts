import { checkKeyOf, type CheckRunState } from "../records/check-runs";
import { clearDeadlineOp as clearOp, setDeadlineOp as setOp } from "../records/deadlines";
import type { WriteOp } from "../store/store";

/**
 * When each unfinished check run times out (see records/deadlines.ts): members are check keys. A
 * deadline left behind by a later decision is harmless: the sweep checks the wanted state before it
 * concludes anything.
 */
export function setDeadlineOp(check: Pick<CheckRunState, "upstream" | "sha" | "name">, deadline: number): WriteOp {
  return setOp("checkRuns", checkKeyOf(check), deadline);
}

export function clearDeadlineOp(check: Pick<CheckRunState, "upstream" | "sha" | "name">): WriteOp {
  return clearOp("checkRuns", checkKeyOf(check));
}
