import { githubFailure } from "../../broker/github-failure";
import { RelayError } from "../../errors/failure-kinds";

/**
 * What GitHub said about one (upstream, sha): it is a commit there, it is not, or GitHub could not say
 * (an outage, a rate limit, a refused token), as the SPEC §5 failure to answer with.
 */
export type CommitLookup =
  { upstream: string; result: "commit" | "unknown" } | { upstream: string; result: "failed"; failure: RelayError };

interface GitHubErrorLike {
  status?: number;
}

/**
 * A failed `GET /repos/{upstream}/commits/{sha}`: 404 (no such commit) and 422 (no commit for that
 * SHA) are GitHub answering "not a commit here"; anything else means the question is still open. Pure.
 */
export function failedLookup(upstream: string, error: unknown): CommitLookup {
  const status = error instanceof RelayError ? undefined : (error as GitHubErrorLike | null)?.status;
  if (status === 404 || status === 422) return { upstream, result: "unknown" };
  return { upstream, result: "failed", failure: githubFailure(error) };
}

/**
 * Which upstream holds the commit, from the lookups made so far (config order): the first that knows
 * it. A SHA no upstream knows is `validation-failed` only when every upstream answered; while one of
 * them could not be asked, the answer is that failure (retryable for an outage or a rate limit), so
 * an unchecked SHA is never admitted. Pure.
 */
export function decideUpstreamCommit(lookups: readonly CommitLookup[]): string {
  const found = lookups.find((lookup) => lookup.result === "commit");
  if (found) return found.upstream;
  const failed = lookups.find((lookup) => lookup.result === "failed");
  if (failed && failed.result === "failed") throw failed.failure;
  throw new RelayError(
    "validation-failed",
    "delivery_id is not a commit of any upstream this relay serves.",
    "commit-unknown",
  );
}
