import { z } from "zod";
import { RELAYED_EVENTS } from "../config/types";
import { LEVELS } from "../vocabulary/levels";

/**
 * SPEC §3 queue transport: the `jobrequest.v1` entry a self-hosted orchestrator reads from the Redis
 * stream `relay:jobs`, one stream field per key, every value text. The relay writes it; the worker
 * validates it with this schema before running anything, since any client of the Redis can add entries.
 */
export const JOB_REQUEST_SCHEMA = "jobrequest.v1";

/**
 * `job_id` of the one request sent for a downstream that declares no `jobs`: it stands for the whole
 * downstream run, so its results are reported with `scope: "run"` (the per-downstream check run).
 */
export const WHOLE_RUN_JOB_ID = "__run__";

export const jobRequestSchema = z.strictObject({
  schema_version: z.literal(JOB_REQUEST_SCHEMA),
  request_id: z.string().min(1),
  job_id: z.string().min(1),
  delivery_id: z.string().min(1),
  source: z.literal("github"),
  repo_url: z.url({ protocol: /^https$/ }),
  commit_sha: z.string().regex(/^[0-9a-f]{7,64}$/),
  event: z.enum(RELAYED_EVENTS),
  /** "" for a push */
  pr_number: z.string().regex(/^(\d+)?$/),
  runs_on: z.string().min(1),
  level: z.enum(LEVELS),
  downstream: z.string().min(1),
  callback_url: z.url({ protocol: /^https?$/ }),
  callback_token: z.string(),
  submitted_at: z.iso.datetime({ offset: true }),
  /** the upstream repository's owner and name */
  repo_owner: z.string().min(1),
  repo_name: z.string().min(1),
  /** https clone URL of the repository holding `commit_sha` (a fork PR's head repository) */
  clone_url: z.url({ protocol: /^https$/ }),
  /** = request_id: groups the jobs of one dispatch */
  group_id: z.string().min(1),
});

export type JobRequest = z.infer<typeof jobRequestSchema>;
