import { recordJobReport } from "./record-job-report";
import { transitionEffects, type TransitionEffectsDeps } from "./transition-effects";
import { sameRepo, type RelayConfig } from "../config/types";
import type { Store } from "../store/store";
import type { DispatchRecord } from "../records/dispatches";
import { readJobsOf, type JobRecord } from "../records/jobs";
import { tracksCheckRuns } from "../checks/wants-check-runs";

/** Reads the dispatch's job states and concludes the run with the effects of its transition. */
export interface ConcludeDeclaredJobsDeps extends TransitionEffectsDeps {
  store: Store;
}

/** Conclusions that do not fail the downstream as a whole. */
const PASSING = new Set(["success", "neutral", "skipped"]);
const MAX_JOBS = 500;

/**
 * What the per-downstream check of a queue downstream that declares `jobs` concludes with once every
 * declared job has completed (its latest report per job): failure if any failed, else success; null
 * while one is still open or unheard of (SPEC §3). Pure.
 */
export function declaredJobsConclusion(
  declared: readonly string[],
  jobs: readonly JobRecord[],
): "success" | "failure" | null {
  const latest = new Map<string, JobRecord>();
  for (const job of jobs) {
    if (job.scope !== "job" || job.jobName === null) continue;
    const seen = latest.get(job.jobName);
    if (!seen || job.updatedAt >= seen.updatedAt) latest.set(job.jobName, job);
  }
  const finals = declared.map((id) => latest.get(id));
  if (finals.some((job) => job === undefined || job.state !== "COMPLETED")) return null;
  return finals.every((job) => PASSING.has(job?.conclusion ?? "")) ? "success" : "failure";
}

/**
 * After a declared job of a queue dispatch is known completed: if it was the last one, conclude the
 * per-downstream check through the run-scope state machine (so a `scope: run` report that came first
 * wins, and two last jobs finishing at once conclude it once). Read after the job's own write
 * committed, so the last job to commit always sees every other.
 */
export async function concludeDeclaredJobs(
  relay: ConcludeDeclaredJobsDeps,
  config: RelayConfig,
  dispatch: DispatchRecord,
  job: Pick<JobRecord, "scope" | "state">,
  now: number,
): Promise<boolean> {
  if (dispatch.transport !== "queue" || job.scope !== "job" || job.state !== "COMPLETED" || !tracksCheckRuns(dispatch))
    return false;
  const declared =
    config.downstreams
      .find((d) => sameRepo(d.repo, dispatch.downstream) && d.transport === "queue")
      ?.jobs.map((job) => job.id) ?? [];
  if (declared.length === 0) return false;
  const jobs = await readJobsOf(relay.store, dispatch.requestId, MAX_JOBS);
  const conclusion = declaredJobsConclusion(declared, jobs);
  if (conclusion === null) return false;
  const decision = await recordJobReport(
    relay.store,
    dispatch,
    {
      // Each job request is its own stream entry (its own "run"): the dispatch as a whole has none.
      key: { requestId: dispatch.requestId, runId: "", runAttempt: "1", scope: "run", jobName: null },
      event: { status: "completed", conclusion },
      detailsUrl: null,
      workflowName: null,
      summary: `${dispatch.downstream}: all ${declared.length} declared jobs completed (${conclusion}).`,
      at: now,
    },
    (run) => transitionEffects(relay, config, run, null, now, { hud: false }),
  );
  return decision.outcome === "accepted";
}
