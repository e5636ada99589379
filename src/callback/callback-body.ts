import { z } from "zod";

/** GitHub's check-run conclusions: what a downstream may report for a completed job or run. */
export const CHECK_CONCLUSIONS = ["action_required", "cancelled", "failure", "neutral", "success", "skipped", "stale", "timed_out"] as const;

/** Ids arrive as text from workflow expressions, or as numbers from hand-written clients. */
const numericId = z
  .union([z.string().regex(/^\d{1,20}$/), z.int().nonnegative()])
  .transform((value) => String(BigInt(value)));

/**
 * Free text, capped; lone surrogates are refused here because they cannot be encoded into keys,
 * check-run names or JSON for GitHub, and would otherwise fail deep inside as a server error.
 */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const text = (max: number) =>
  z
    .string()
    .max(max)
    .refine((value) => !LONE_SURROGATE.test(value), { error: "must be well-formed Unicode" });
const httpUrl = z.url({ protocol: /^https?$/ }).max(2048);
const timestamp = z.iso.datetime({ offset: true });
const count = z.int().nonnegative().max(1e9);

const reportFields = {
  schema_version: text(16).optional(),
  scope: z.enum(["job", "run"]).default("job"),
  name: text(256).nullable().optional(),
  url: httpUrl.nullable().optional(),
  run_id: numericId,
  run_attempt: numericId.refine((value) => value !== "0", { error: "run_attempt starts at 1" }).default("1"),
  job_name: text(256).pipe(z.string().min(1)).nullable().optional(),
  check_run_id: numericId.nullable().optional(),
  started_at: timestamp.nullable().optional(),
  completed_at: timestamp.nullable().optional(),
  test_results: z.object({ passed: count.optional(), failed: count.optional(), skipped: count.optional() }).nullable().optional(),
  artifact_url: httpUrl.nullable().optional(),
  summary: text(16 * 1024).nullable().optional(),
};

/**
 * The `workflow` object of a callback (SPEC §4): a conclusion exactly when completed. Every string is
 * size-capped: the object is forwarded to the HUD as the untrusted part of a record.
 */
export const workflowReportSchema = z
  .discriminatedUnion("status", [
    z.object({ ...reportFields, status: z.literal("in_progress"), conclusion: z.null().optional() }),
    z.object({ ...reportFields, status: z.literal("completed"), conclusion: z.enum(CHECK_CONCLUSIONS) }),
  ])
  .refine((w) => w.scope === "run" || (w.job_name !== undefined && w.job_name !== null), {
    path: ["job_name"],
    error: "job_name is required for scope job",
  });

export type WorkflowReport = z.infer<typeof workflowReportSchema>;

/** SPEC §4 body; CRCR's echoed `payload` is accepted and dropped unread. */
export const callbackBodySchema = z.object({
  relay_token: z.string().max(8 * 1024),
  event_type: text(64).optional(),
  delivery_id: text(128).optional(),
  payload: z.unknown().optional(),
  workflow: workflowReportSchema,
});

export type CallbackBody = z.infer<typeof callbackBodySchema>;
