import { z } from "zod";
import { workflowReportSchema } from "../../jobs/workflow-report";
import { PERIODIC_EVENTS, type PeriodicEvent } from "../../records/nightly-reports";

/**
 * A full commit id, SHA-1 or SHA-256. Nothing shorter: GitHub's commits endpoint also resolves branch
 * names and abbreviations, and "main" must not pass for the commit it points at today.
 */
const commitSha = z
  .string()
  .regex(/^(?:[0-9a-f]{40}|[0-9a-f]{64})$/i, { error: "must be the full hex SHA of an upstream commit" })
  .transform((sha) => sha.toLowerCase());

/**
 * SPEC §4 body of a nightly or periodic report (CRCR's): no dispatch precedes it, so `delivery_id` is
 * the upstream commit the run tested, and only a finished run is reported. A `relay_token` or an
 * echoed `payload`, if sent, is accepted and not read.
 */
export const nightlyBodySchema = z.object({
  relay_token: z
    .string()
    .max(8 * 1024)
    .optional(),
  event_type: z.enum(PERIODIC_EVENTS),
  delivery_id: commitSha,
  payload: z.unknown().optional(),
  workflow: workflowReportSchema,
});

export type NightlyBody = z.infer<typeof nightlyBodySchema>;

/** Whether a parsed callback body asks for the nightly path: its `event_type` alone decides. Pure. */
export function periodicEventOf(json: unknown): PeriodicEvent | null {
  if (json === null || typeof json !== "object" || Array.isArray(json)) return null;
  const eventType = (json as { event_type?: unknown }).event_type;
  return (PERIODIC_EVENTS as readonly unknown[]).includes(eventType) ? (eventType as PeriodicEvent) : null;
}
