import type { ProbotOctokit } from "probot";
import { githubFailure } from "./github-failure";
import type { GitHubCall } from "./operations";

export type Octokit = InstanceType<typeof ProbotOctokit>;

/**
 * A runner waits on the broker's answer, so a GitHub 5xx comes back at once as a retryable
 * `github-egress-failed` instead of after Octokit's backoff; the runner's retry is safe (writes are idempotent).
 */
export const NO_RETRY = { request: { retries: 0 } };

/** One call of the operation table; GitHub's failures become SPEC §5 kinds. */
export async function sendGitHubCall(client: Octokit, call: GitHubCall): Promise<unknown> {
  try {
    const response = await client.request(`${call.method} ${call.path}`, {
      ...call.query,
      ...(call.body ? { data: call.body } : {}),
      ...NO_RETRY,
    });
    return response.data;
  } catch (error) {
    throw githubFailure(error);
  }
}
