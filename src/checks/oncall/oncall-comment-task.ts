import { createHash } from "node:crypto";
import type { Logger } from "pino";
import type { ProbotOctokit } from "probot";
import { z } from "zod";
import { downstreamCheckName } from "../check-run-names";
import type { ConfigSource } from "../../config/config-source";
import type { RelayConfig } from "../../config/types";
import type { AppGitHub } from "../../github/app-github";
import type { Task } from "../../outbox/outbox";
import type { TaskContext, TaskHandler } from "../../outbox/outbox-runner";
import {
  areChecksShownMany,
  checkKey,
  readDownstreamRuns,
  readWantedCheckRuns,
  type CheckRunState,
} from "../../records/check-runs";
import {
  lockOncallComment,
  readOncallComment,
  storeOncallComment,
  unlockOncallComment,
  type StoredComment,
} from "../../records/oncall-comments";
import type { Store } from "../../store/store";
import { notifiesByComment, ONCALL_COMMENT_TASK, type OncallCommentTaskData } from "./oncall-comment-state";
import { isFailing, renderOncallComment, type OncallRow } from "./render-oncall-comment";

type Octokit = InstanceType<typeof ProbotOctokit>;

export interface OncallCommentDeps {
  store: Store;
  github: AppGitHub;
  config: Pick<ConfigSource, "get">;
  log: Logger;
  /** RELAY_PUBLIC_URL: the dashboard is the link until a downstream run is known */
  publicUrl: string;
}

const pullHead = z.object({ head: z.object({ sha: z.string() }) });
const madeComment = z.object({ id: z.number().int() });

/** Longer than the outbox lets any task run (120 s); a holder that died frees the PR after this. */
const LOCK_SECONDS = 150;

const sha256 = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");
const statusOf = (error: unknown) => (error as { status?: number }).status;

/**
 * SPEC §2 `notify: [comment]`: makes the PR's one oncall comment show each notifying downstream's
 * latest per-downstream check on the PR's head commit. Created only once some check failed or timed
 * out; afterwards every result edits it. A task for a commit that is no longer the head does
 * nothing. One task per PR at a time (a lease, so two workers never both create it); the comment's
 * id is stored per PR, a deleted comment is made again, and a body already shown is not sent again.
 */
export function oncallCommentTask(deps: OncallCommentDeps): TaskHandler<typeof ONCALL_COMMENT_TASK> {
  return {
    async run(task: Task<typeof ONCALL_COMMENT_TASK>, context?: TaskContext) {
      const { data } = task;
      const config = await deps.config.get();
      if (config === null) throw new Error("relay config not loaded yet");
      // A first look without GitHub: most results pass on PRs that have no comment to edit.
      if (!(await hasSomethingToSay(deps.store, config, data))) return;
      if (!(await lockOncallComment(deps.store, data.upstream, data.prNumber, task.id, LOCK_SECONDS))) {
        throw new Error(`the oncall comment of ${data.upstream}#${data.prNumber} is being written by another task`);
      }
      try {
        await writeComment(deps, config, data, context?.signal);
      } finally {
        await unlockOncallComment(deps.store, data.upstream, data.prNumber, task.id).catch(() => undefined);
      }
    },
  };
}

async function hasSomethingToSay(store: Store, config: RelayConfig, data: OncallCommentTaskData): Promise<boolean> {
  if ((await readOncallComment(store, data.upstream, data.prNumber)) !== null) return true;
  return (await checksOf(store, config, data)).some(({ check }) => isFailing(check));
}

/** Under the lease: everything read again, so the latest decisions are the ones shown. */
async function writeComment(
  deps: OncallCommentDeps,
  config: RelayConfig,
  data: OncallCommentTaskData,
  signal: AbortSignal | undefined,
): Promise<void> {
  const { upstream, prNumber, sha } = data;
  const stored = await readOncallComment(deps.store, upstream, prNumber);
  const dashboardUrl = `${deps.publicUrl}/relay/?upstream=${encodeURIComponent(upstream)}&pr=${prNumber}`;
  const rows = await rowsOf(deps.store, config, data, dashboardUrl);
  const failing = rows.some(isFailing);
  if (stored === null && !failing) return;
  const body = renderOncallComment({ sha, rows, dashboardUrl });
  const bodySha256 = sha256(body);
  // Already showing exactly this (a repeated task): nothing to ask GitHub.
  if (stored?.bodySha256 === bodySha256) return;

  const [owner, repo] = upstream.split("/");
  const octokit = await deps.github.forRepo(upstream, { issues: "write", pull_requests: "read" });
  const head = await octokit
    .request("GET /repos/{owner}/{repo}/pulls/{pull_number}", {
      owner,
      repo,
      pull_number: prNumber,
      request: { signal },
    })
    .then(({ data: pull }) => pullHead.parse(pull).head.sha)
    .catch((error: unknown) => {
      if (statusOf(error) === 404) return null;
      throw error;
    });
  if (head !== sha) {
    deps.log.debug(
      { upstream, prNumber, sha, head },
      "oncall comment: result for a commit that is not the pull request's head; nothing changed",
    );
    return;
  }

  const edited = stored === null ? false : await editComment(octokit, { owner, repo, id: stored.id, body }, signal);
  let next: StoredComment | null = edited && stored !== null ? { id: stored.id, bodySha256 } : null;
  if (next === null && failing) {
    // Never made, or deleted since: a failure to report makes it (again).
    const { data: made } = await octokit.request("POST /repos/{owner}/{repo}/issues/{issue_number}/comments", {
      owner,
      repo,
      issue_number: prNumber,
      body,
      request: { signal },
    });
    next = { id: madeComment.parse(made).id, bodySha256 };
  }
  await storeOncallComment(deps.store, upstream, prNumber, next);
  deps.log.info(
    { upstream, prNumber, sha, commentId: next?.id ?? null, made: next !== null && !edited },
    "oncall comment written",
  );
}

/** PATCHes the stored comment; false when GitHub no longer has it (deleted). */
async function editComment(
  octokit: Octokit,
  target: { owner: string; repo: string; id: number; body: string },
  signal: AbortSignal | undefined,
): Promise<boolean> {
  try {
    await octokit.request("PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}", {
      owner: target.owner,
      repo: target.repo,
      comment_id: target.id,
      body: target.body,
      request: { signal },
    });
    return true;
  } catch (error) {
    if (statusOf(error) === 404) return false;
    throw error;
  }
}

interface NotifyingCheck {
  oncalls: string[];
  check: CheckRunState;
}

/**
 * The per-downstream checks of the notifying downstreams on this commit that show on the PR (an L3
 * downstream's only once the PR has its label), in config order.
 */
async function checksOf(store: Store, config: RelayConfig, data: OncallCommentTaskData): Promise<NotifyingCheck[]> {
  const notifying = config.downstreams.filter((d) => notifiesByComment(config, d.repo));
  const checkKeys = notifying.map((d) =>
    checkKey(data.upstream, data.sha, downstreamCheckName(config.checkPrefix, d.repo)),
  );
  const found = (await readWantedCheckRuns(store, checkKeys))
    .map((check, i) => ({ oncalls: notifying[i].oncalls, check }))
    .filter((entry): entry is NotifyingCheck => entry.check !== null);
  if (found.length === 0) return [];
  const shown = await areChecksShownMany(
    store,
    found.map(({ check }) => check.requestId),
  );
  return found.filter((_, i) => shown[i]);
}

async function rowsOf(
  store: Store,
  config: RelayConfig,
  data: OncallCommentTaskData,
  dashboardUrl: string,
): Promise<OncallRow[]> {
  const checks = await checksOf(store, config, data);
  const runs =
    checks.length === 0
      ? []
      : await readDownstreamRuns(
          store,
          checks.map(({ check }) => check.requestId),
        );
  return checks.map(({ oncalls, check }, i) => {
    const run = runs[i];
    return {
      downstream: check.downstream,
      oncalls,
      status: check.status,
      conclusion: check.conclusion,
      url: check.detailsUrl ?? run?.url ?? dashboardUrl,
    };
  });
}
