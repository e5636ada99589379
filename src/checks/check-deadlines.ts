import type { WriteOp } from "../store/store";
import { checkKey, type CheckRunState } from "./check-run-state";

/**
 * When each unfinished check run times out: a sorted set scored by deadline (epoch ms) whose members
 * are check keys, so the sweep reads only what is due. A deadline left behind by a later decision
 * is harmless: the sweep checks the wanted state before it concludes anything.
 */
export const CHECK_DEADLINES = "relay:check:deadlines";

export function setDeadlineOp(check: Pick<CheckRunState, "upstream" | "sha" | "name">, deadline: number): WriteOp {
  return { op: "zadd", key: CHECK_DEADLINES, member: checkKey(check.upstream, check.sha, check.name), score: deadline };
}

export function clearDeadlineOp(check: Pick<CheckRunState, "upstream" | "sha" | "name">): WriteOp {
  return { op: "zrem", key: CHECK_DEADLINES, member: checkKey(check.upstream, check.sha, check.name) };
}
