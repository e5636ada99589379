import { z } from "zod";
import type { TaskData } from "../outbox/task-data";
import { CHECK_CONCLUSIONS, type CheckConclusion } from "../vocabulary/check-conclusions";
import type { DownstreamRun } from "../records/check-runs";

/**
 * The facts of a downstream `workflow_run` webhook the per-downstream check depends on: exactly what
 * the workflow-run task carries, so declared (with its fields' meaning) in the task table.
 */
export type WorkflowRunEvent = TaskData["workflow-run"];

const payloadSchema = z.object({
  action: z.enum(["requested", "in_progress", "completed"]),
  installation: z.object({ id: z.int() }),
  repository: z.object({ full_name: z.string() }),
  workflow_run: z.object({
    id: z.int().nonnegative(),
    run_attempt: z.int().min(1).nullish(),
    name: z.string().nullish(),
    html_url: z.string().nullish(),
    conclusion: z.string().nullish(),
  }),
});

/** Null for a payload this is not (or an action that does not matter). Pure. */
export function parseWorkflowRunEvent(payload: unknown): WorkflowRunEvent | null {
  const parsed = payloadSchema.safeParse(payload);
  if (!parsed.success) return null;
  const { action, installation, repository, workflow_run: run } = parsed.data;
  return {
    action,
    installationId: installation.id,
    repo: repository.full_name,
    runId: String(run.id),
    runAttempt: run.run_attempt ?? 1,
    name: run.name ?? null,
    url: run.html_url ?? null,
    conclusion: run.conclusion ?? null,
  };
}

export type WorkflowRunDecision =
  /** the run finished: the per-downstream check concludes with its conclusion, unless a run report came first */
  | { kind: "conclude"; runAttempt: string; conclusion: CheckConclusion }
  /** a re-run of the run started: the check is open again */
  | { kind: "reopen"; runAttempt: string }
  | { kind: "ignore" };

/**
 * SPEC §3: what a `workflow_run` of the dispatch's own run does to its per-downstream check, given the
 * attempt the relay last heard of. A completion of an older attempt than the known one, and a start
 * of an attempt already known, change nothing. Pure.
 */
export function decideWorkflowRun(event: WorkflowRunEvent, known: DownstreamRun | null): WorkflowRunDecision {
  const knownAttempt = Number(known?.attempt ?? 1);
  const runAttempt = String(event.runAttempt);
  if (event.action === "completed") {
    if (event.runAttempt < knownAttempt || event.conclusion === null) return { kind: "ignore" };
    return { kind: "conclude", runAttempt, conclusion: runConclusion(event.conclusion) };
  }
  return event.runAttempt > knownAttempt ? { kind: "reopen", runAttempt } : { kind: "ignore" };
}

/** Runs end in more ways than check runs (`startup_failure`): anything a check cannot show failed. */
function runConclusion(value: string): CheckConclusion {
  return CHECK_CONCLUSIONS.find((c) => c === value) ?? "failure";
}
