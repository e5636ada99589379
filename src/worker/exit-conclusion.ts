import type { ChildExit } from "./run-job-command";

/**
 * The check-run conclusion a job command's exit means: 0 is success, any other code failure. A
 * command killed by a signal crashed rather than failed (out of memory, the machine going away):
 * null, so the job is not reported and its entry is delivered again. Pure.
 */
export function exitConclusion(exit: ChildExit): "success" | "failure" | null {
  if (exit.signal !== null || exit.code === null) return null;
  return exit.code === 0 ? "success" : "failure";
}
