import type { JobRequest } from "../queue/job-request";

export interface JobContext {
  /** the stream entry id */
  entryId: string;
  /** this delivery's number, 1 for the first */
  attempt: number;
  /** where the command may write its result JSON (url, summary, conclusion, test_results, artifact_url) */
  resultFile: string;
}

/**
 * The environment a job command runs with: `JOB_REQUEST_JSON` and one `JOB_<FIELD>` per request field,
 * except the callback token — the worker reports results itself, and a job's log should have no
 * credential to print. The worker's own REDIS_URL (which may hold a password) is left out too. Pure.
 */
export function jobEnvironment(base: NodeJS.ProcessEnv, request: JobRequest, context: JobContext): NodeJS.ProcessEnv {
  const { callback_token: _secret, ...visible } = request;
  const env: NodeJS.ProcessEnv = { ...base };
  delete env.REDIS_URL;
  for (const [field, value] of Object.entries(visible)) env[`JOB_${field.toUpperCase()}`] = value;
  return {
    ...env,
    JOB_REQUEST_JSON: JSON.stringify(visible),
    JOB_ENTRY_ID: context.entryId,
    JOB_ATTEMPT: String(context.attempt),
    JOB_RESULT_FILE: context.resultFile,
  };
}
