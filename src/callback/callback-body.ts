import { z } from "zod";
import { cappedText, workflowReportSchema } from "../jobs/workflow-report";
import { RelayError } from "../errors/failure-kinds";

/** SPEC §4 body; CRCR's echoed `payload` is accepted and dropped unread. */
export const callbackBodySchema = z.object({
  relay_token: z.string().max(8 * 1024),
  event_type: cappedText(64).optional(),
  delivery_id: cappedText(128).optional(),
  payload: z.unknown().optional(),
  workflow: workflowReportSchema,
});

export type CallbackBody = z.infer<typeof callbackBodySchema>;

/** Names the fields that failed, never their values: a body may carry anything. */
export function invalidBody(error: z.ZodError): RelayError {
  const fields = [...new Set(error.issues.map((issue) => issue.path.join(".") || "(body)"))].slice(0, 10);
  return new RelayError("validation-failed", `The callback body is invalid: ${fields.join(", ")}.`, "body-invalid");
}
