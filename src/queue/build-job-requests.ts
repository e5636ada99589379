import type { Downstream, RelayConfig } from "../config/types";
import type { DispatchRecord } from "../records/dispatches";
import { JOB_REQUEST_SCHEMA, WHOLE_RUN_JOB_ID, type JobRequest } from "./job-request";

export interface JobRequestInput {
  config: Pick<RelayConfig, "runsOnDefault">;
  downstream: Pick<Downstream, "runsOn" | "jobs">;
  record: DispatchRecord;
  /** where upstream repositories live on the web: `https://github.com` or the GHE host */
  webBaseUrl: string;
  callbackUrl: string;
  callbackToken: string;
  /** epoch ms */
  submittedAt: number;
}

/**
 * SPEC §3 queue transport: the job requests of one dispatch — one per declared job, or one for the
 * whole downstream when it declares none. `runs_on` is the job's label, else the downstream's, else
 * the config's `runs_on_default`. Every request carries the dispatch's one callback token, and the
 * Solstice-style fields: the upstream's `repo_owner`/`repo_name`, the `clone_url` holding the commit,
 * and `group_id` (the dispatch). Pure.
 */
export function buildJobRequests(input: JobRequestInput): JobRequest[] {
  const { config, downstream, record } = input;
  const runsOnOf = (jobRunsOn?: string) => jobRunsOn || downstream.runsOn || config.runsOnDefault;
  const jobs =
    downstream.jobs.length > 0
      ? downstream.jobs.map((job) => ({ id: job.id, runsOn: runsOnOf(job.runsOn) }))
      : [{ id: WHOLE_RUN_JOB_ID, runsOn: runsOnOf() }];
  const [repoOwner, repoName] = record.upstream.repo.split("/");
  const upstreamUrl = `${input.webBaseUrl}/${record.upstream.repo}`;
  return jobs.map((job) => ({
    schema_version: JOB_REQUEST_SCHEMA,
    request_id: record.requestId,
    job_id: job.id,
    delivery_id: record.deliveryId,
    source: "github",
    repo_url: upstreamUrl,
    commit_sha: record.upstream.sha,
    event: record.event,
    pr_number: record.upstream.prNumber === null ? "" : String(record.upstream.prNumber),
    runs_on: job.runsOn,
    level: record.level,
    downstream: record.downstream,
    callback_url: input.callbackUrl,
    callback_token: input.callbackToken,
    submitted_at: new Date(input.submittedAt).toISOString(),
    repo_owner: repoOwner,
    repo_name: repoName,
    // A fork PR's commit lives in the fork: an orchestrator fetches it from there.
    clone_url: record.upstream.cloneUrl || `${upstreamUrl}.git`,
    // Solstice groups the jobs of one dispatch by this.
    group_id: record.requestId,
  }));
}
