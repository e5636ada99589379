import type { Logger } from "pino";
import type { AppGitHub } from "../github/app-github";
import { OUTBOX_WRITE_WAIT_MS } from "../github/pace-writes";
import { deferralOf } from "../outbox/deferral";
import type { Task } from "../outbox/outbox";
import type { TaskContext, TaskHandler } from "../outbox/outbox-runner";
import {
  areChecksShown,
  checkKey,
  lockCheckRun,
  markCheckRunCreating,
  readDownstreamRun,
  readKnownCheckRun,
  readWantedCheckRun,
  storeKnownCheckRun,
  unlockCheckRun,
  unmarkCheckRunCreating,
  type CheckRunState,
  type KnownCheckRun,
} from "../records/check-runs";
import type { Store } from "../store/store";
import { CHECK_RUN_TASK } from "./check-run-state";

export interface SyncCheckRunDeps {
  store: Store;
  github: AppGitHub;
  log: Logger;
  /** RELAY_PUBLIC_URL: the dashboard is the details link until the downstream run is known */
  publicUrl: string;
}

/** Longer than the outbox lets any task run (its 120 s time limit); a holder that died frees the check run after this. */
const LOCK_SECONDS = 150;

/**
 * A check run the app created must end up showing its wanted state. Given up after the runner's
 * usual hour of a GitHub outage, the last decision would never show and the check run would stay
 * queued or in progress for good: nothing writes it again (the timeout sweep finds the wanted state
 * already final). So retried for a day instead.
 */
const GIVE_UP_AFTER_MS = 24 * 3600_000;

interface ListedCheckRun {
  id: number;
  status: string;
  external_id: string | null;
}

/**
 * Makes the upstream check run match its current wanted state (see check-run-state.ts), creating it
 * at most once: the GitHub id is remembered per (repo, sha, name); without it the app's own run is
 * found by `external_id` before anything is created. One task per check run at a time (a lease);
 * a task that finds the lease taken is retried by the outbox.
 */
export function syncCheckRunTask(deps: SyncCheckRunDeps): TaskHandler<typeof CHECK_RUN_TASK> {
  return {
    giveUpAfterMs: GIVE_UP_AFTER_MS,
    async run(task: Task<typeof CHECK_RUN_TASK>, context?: TaskContext) {
      const key = checkKey(task.data.upstream, task.data.sha, task.data.name);
      const first = await readWantedCheckRun(deps.store, key);
      if (!first || !(await areChecksShown(deps.store, first.requestId))) return;
      if (!(await lockCheckRun(deps.store, key, task.id, LOCK_SECONDS))) {
        throw new Error(`check run ${first.name} is being written by another task`);
      }
      try {
        // Read again under the lease: a decision made meanwhile is the one to show.
        const want = (await readWantedCheckRun(deps.store, key)) ?? first;
        const known = await writeCheckRun(deps, key, want, context?.signal);
        await storeKnownCheckRun(deps.store, key, known);
        deps.log.debug(
          { check: want.name, sha: want.sha, status: want.status, conclusion: want.conclusion, checkRunId: known.id },
          "check run written",
        );
      } finally {
        await unlockCheckRun(deps.store, key, task.id).catch(() => undefined);
      }
    },
  };
}

async function writeCheckRun(
  deps: SyncCheckRunDeps,
  key: string,
  want: CheckRunState,
  signal: AbortSignal | undefined,
): Promise<KnownCheckRun> {
  const [owner, repo] = want.upstream.split("/");
  const octokit = await deps.github.forRepo(want.upstream, { checks: "write" });
  let known = await readKnownCheckRun(deps.store, key);
  // Looked up only where a create may have reached GitHub without its id being kept (a crash or a
  // failed reply after the POST): in steady state the app knows the id of every check run it made.
  const firstCreate = known === null && (await markCheckRunCreating(deps.store, key));
  if (known === null && !firstCreate) {
    const { data } = await octokit.request("GET /repos/{owner}/{repo}/commits/{ref}/check-runs", {
      owner,
      repo,
      ref: want.sha,
      check_name: want.name,
      filter: "all",
      per_page: 100,
      request: { signal },
    });
    const own = (data.check_runs as ListedCheckRun[])
      .filter((r) => r.external_id === want.externalId)
      .sort((a, b) => b.id - a.id)[0];
    known = own ? { id: own.id, completed: own.status === "completed" } : null;
  }
  const fields = {
    details_url:
      want.detailsUrl ?? (await runUrl(deps.store, want.requestId)) ?? `${deps.publicUrl}/relay/?sha=${want.sha}`,
    external_id: want.externalId,
    ...(want.status === "completed"
      ? { conclusion: want.conclusion ?? "neutral", completed_at: new Date(want.at).toISOString() }
      : { status: want.status }),
    output: { title: want.title, summary: want.summary },
  };
  // A finished check run that must run again (a re-run) is a new check run, as GitHub's UI expects.
  if (known !== null && !(known.completed && want.status !== "completed")) {
    await octokit.request("PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}", {
      owner,
      repo,
      check_run_id: known.id,
      ...fields,
      request: { signal, pacingWaitMs: OUTBOX_WRITE_WAIT_MS },
    });
    return { id: known.id, completed: want.status === "completed" };
  }
  try {
    const { data } = await octokit.request("POST /repos/{owner}/{repo}/check-runs", {
      owner,
      repo,
      name: want.name,
      head_sha: want.sha,
      ...fields,
      request: { signal, pacingWaitMs: OUTBOX_WRITE_WAIT_MS },
    });
    return { id: data.id, completed: want.status === "completed" };
  } catch (error) {
    // Put off for its write slot, the create was never sent: its next turn needs no look-up either.
    if (firstCreate && deferralOf(error) !== null) await unmarkCheckRunCreating(deps.store, key);
    throw error;
  }
}

async function runUrl(store: Store, requestId: string): Promise<string | null> {
  return (await readDownstreamRun(store, requestId))?.url ?? null;
}
