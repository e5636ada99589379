import { z } from "zod";

/**
 * Every kind of outbox task and the data it carries, in one table: what a kind's producer may
 * enqueue and what its handler receives (see TaskData), checked by the compiler at both ends and
 * validated when a task is read back from the store. Adding a kind is one line here, then the
 * compiler asks for its handler in the composition root. Plain values only, so the outbox depends
 * on no domain folder.
 */
const taskDataSchemas = {
  /** one planned repository_dispatch (src/relay) */
  dispatch: z.object({ requestId: z.string().min(1) }),
  /** one queue downstream's job requests appended to the stream (src/queue) */
  "enqueue-job": z.object({ requestId: z.string().min(1) }),
  /** one record POSTed to the HUD as it was built (src/hud): forwarded verbatim, so any JSON object */
  hud: z.object({ record: z.record(z.string(), z.unknown()) }),
  /** one upstream check run made to match its wanted state (src/checks) */
  "check-run": z.object({ upstream: z.string().min(1), sha: z.string().min(1), name: z.string().min(1) }),
  /** one known downstream Actions run re-run (src/checks); `rerun-failed-jobs` for one check run, `rerun` for a suite */
  "rerun-downstream": z.object({
    downstream: z.string().min(1),
    runId: z.string().min(1),
    mode: z.enum(["rerun", "rerun-failed-jobs"]),
  }),
  /** a ciflow tag push: the label rules of PR #prNumber applied to its dispatches (src/checks) */
  "ciflow-labels": z.object({ repo: z.string().min(1), prNumber: z.int().positive(), sha: z.string().min(1) }),
  /** the facts of a downstream `workflow_run` webhook the per-downstream check depends on (src/checks) */
  "workflow-run": z.object({
    action: z.enum(["requested", "in_progress", "completed"]),
    /** the installation the delivery came from: it must be the downstream's own */
    installationId: z.int(),
    repo: z.string(),
    runId: z.string(),
    runAttempt: z.int().min(1),
    name: z.string().nullable(),
    url: z.string().nullable(),
    /** GitHub's run conclusion, for `completed` */
    conclusion: z.string().nullable(),
  }),
  /** a PR's oncall comment made to follow its checks (src/oncall) */
  "oncall-comment": z.object({
    upstream: z.string().min(1),
    prNumber: z.int().positive(),
    /** the commit whose result caused the task; nothing happens once it is no longer the PR's head */
    sha: z.string().min(1),
  }),
};

export type TaskKind = keyof typeof taskDataSchemas;

/** Kind → the data a task of that kind carries. */
export type TaskData = { [K in TaskKind]: z.output<(typeof taskDataSchemas)[K]> };

/** What a producer enqueues: the kind decides the data's type; `lane` is the lane it waits in (lanes.ts). */
export type NewTask<K extends TaskKind = TaskKind> = {
  [P in K]: { id: string; kind: P; data: TaskData[P]; lane?: string };
}[K];

// Annotated as a mapped type, so that indexing it with a generic kind K yields a schema of TaskData[K].
const schemaOf: { [K in TaskKind]: z.ZodType<TaskData[K]> } = taskDataSchemas;

export function isTaskKind(kind: string): kind is TaskKind {
  return Object.hasOwn(taskDataSchemas, kind);
}

/** A stored task's data checked against its kind's schema: the data, or why it is not of that kind. */
export function parseTaskData<K extends TaskKind>(
  kind: K,
  data: unknown,
): { ok: true; data: TaskData[K] } | { ok: false; error: string } {
  const parsed = schemaOf[kind].safeParse(data);
  return parsed.success
    ? { ok: true, data: parsed.data }
    : { ok: false, error: z.prettifyError(parsed.error).replace(/\n/g, "; ") };
}
