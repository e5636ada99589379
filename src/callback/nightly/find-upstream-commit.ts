import { NO_RETRY } from "../../broker/send-github-call";
import { tokenFailure } from "../../broker/github-failure";
import type { AppGitHub } from "../../github/app-github";
import type { Store } from "../../store/store";
import { decideUpstreamCommit, failedLookup, type CommitLookup } from "./commit-lookup";
import { readCommitChecks, storeCommitCheck } from "../../records/nightly-reports";

/** A commit GitHub has shown once stays one; a week keeps nightly after nightly off the API. */
const COMMIT_TTL_SECONDS = 7 * 24 * 3600;
/** "Not a commit" is remembered briefly: a SHA pushed a moment later is found on the next report. */
const NOT_COMMIT_TTL_SECONDS = 5 * 60;

export interface FindUpstreamCommitDeps {
  store: Store;
  github: Pick<AppGitHub, "forRepo">;
}

/**
 * SPEC §4: the upstream (of `upstreams`, in config order) that `sha` is a commit of, asked of GitHub
 * with that upstream's installation token and cached in the store (shared by every process). Throws
 * `validation-failed` when no upstream has it, and GitHub's failure when it could not be asked: only
 * an answer GitHub gave is ever cached, so an outage never admits a SHA nor refuses one for long.
 */
export async function findUpstreamCommit(
  deps: FindUpstreamCommitDeps,
  upstreams: readonly string[],
  sha: string,
): Promise<string> {
  const cached = await readCommitChecks(deps.store, upstreams, sha);
  const lookups: CommitLookup[] = [];
  for (const [i, upstream] of upstreams.entries()) {
    const known = cached[i];
    const lookup: CommitLookup = known !== null ? { upstream, result: known } : await askGitHub(deps, upstream, sha);
    lookups.push(lookup);
    if (lookup.result === "commit") break;
  }
  return decideUpstreamCommit(lookups);
}

async function askGitHub(deps: FindUpstreamCommitDeps, upstream: string, sha: string): Promise<CommitLookup> {
  let client;
  try {
    client = await deps.github.forRepo(upstream, { contents: "read" });
  } catch (error) {
    return { upstream, result: "failed", failure: tokenFailure(error) };
  }
  let lookup: CommitLookup;
  try {
    const [owner, repo] = upstream.split("/");
    // The `sha` media type answers the commit id alone, not the commit with its (possibly huge) diff.
    const { data } = await client.request("GET /repos/{owner}/{repo}/commits/{ref}", {
      owner,
      repo,
      ref: sha,
      headers: { accept: "application/vnd.github.sha" },
      ...NO_RETRY,
    });
    lookup = { upstream, result: answeredSha(data) === sha ? "commit" : "unknown" };
  } catch (error) {
    lookup = failedLookup(upstream, error);
  }
  if (lookup.result !== "failed") {
    const ttlSeconds = lookup.result === "commit" ? COMMIT_TTL_SECONDS : NOT_COMMIT_TTL_SECONDS;
    await storeCommitCheck(deps.store, upstream, sha, lookup.result, ttlSeconds);
  }
  return lookup;
}

/** The commit id GitHub answered: text for the `sha` media type, or a commit object from a server that ignores it. */
function answeredSha(data: unknown): string | null {
  if (typeof data === "string") return data.trim().toLowerCase();
  const sha = (data as { sha?: unknown } | null)?.sha;
  return typeof sha === "string" ? sha.toLowerCase() : null;
}
