import { z } from "zod";
import { CHECK_CONCLUSIONS } from "../vocabulary/check-conclusions";

/** Ids arrive as text from workflow expressions, or as numbers from hand-written clients. */
const numericId = z
  .union([z.string().regex(/^\d{1,20}$/), z.int().nonnegative()])
  .transform((value) => String(BigInt(value)));

/**
 * Free text, capped; lone surrogates are refused here because they cannot be encoded into keys,
 * check-run names or JSON for GitHub, and would otherwise fail deep inside as a server error.
 */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
export const cappedText = (max: number) =>
  z
    .string()
    .max(max)
    .refine((value) => !LONE_SURROGATE.test(value), { error: "must be well-formed Unicode" });
const httpUrl = z.url({ protocol: /^https?$/ }).max(2048);
const timestamp = z.iso.datetime({ offset: true });
const count = z.int().nonnegative().max(1e9);

const reportFields = {
  schema_version: cappedText(16).optional(),
  scope: z.enum(["job", "run"]).default("job"),
  name: cappedText(256).nullable().optional(),
  url: httpUrl.nullable().optional(),
  run_id: numericId,
  run_attempt: numericId.refine((value) => value !== "0", { error: "run_attempt starts at 1" }).default("1"),
  job_name: cappedText(256).pipe(z.string().min(1)).nullable().optional(),
  /** `job.check_run_id`; CRCR's action sends `<run_id>-<run_attempt>` where the runner has none */
  check_run_id: z
    .union([z.string().regex(/^\d{1,20}(-\d{1,20})?$/), z.int().nonnegative()])
    .transform(String)
    .nullable()
    .optional(),
  started_at: timestamp.nullable().optional(),
  completed_at: timestamp.nullable().optional(),
  test_results: z
    .object({ passed: count.optional(), failed: count.optional(), skipped: count.optional() })
    .nullable()
    .optional(),
  artifact_url: httpUrl.nullable().optional(),
  summary: cappedText(16 * 1024)
    .nullable()
    .optional(),
};

/**
 * Fields the relay does not know are kept and forwarded to the HUD (CRCR passes callbacks through, and
 * PyTorch's HUD has grown fields such as `triage_verdict`), within this many bytes of JSON altogether.
 */
export const UNKNOWN_FIELDS_MAX_BYTES = 16 * 1024;
const KNOWN_FIELDS = new Set([...Object.keys(reportFields), "status", "conclusion"]);

function unknownFieldsBytes(workflow: Record<string, unknown>): number {
  const unknown = Object.fromEntries(Object.entries(workflow).filter(([key]) => !KNOWN_FIELDS.has(key)));
  return Buffer.byteLength(JSON.stringify(unknown), "utf8");
}

/**
 * The `workflow` object of a callback (SPEC §4): a conclusion exactly when completed. Every string is
 * size-capped, and so are the unknown fields together: the object is forwarded to the HUD as the
 * untrusted part of a record.
 */
export const workflowReportSchema = z
  .discriminatedUnion("status", [
    z.looseObject({ ...reportFields, status: z.literal("in_progress"), conclusion: z.null().optional() }),
    z.looseObject({ ...reportFields, status: z.literal("completed"), conclusion: z.enum(CHECK_CONCLUSIONS) }),
  ])
  .refine((w) => w.scope === "run" || (w.job_name !== undefined && w.job_name !== null), {
    path: ["job_name"],
    error: "job_name is required for scope job",
  })
  .refine((w) => unknownFieldsBytes(w) <= UNKNOWN_FIELDS_MAX_BYTES, {
    error: `fields the relay does not know may take at most ${UNKNOWN_FIELDS_MAX_BYTES} bytes`,
  });

export type WorkflowReport = z.infer<typeof workflowReportSchema>;
