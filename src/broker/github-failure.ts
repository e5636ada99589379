import { isRateLimited, SECONDARY_LIMIT_DEFAULT_WAIT_MS } from "../github/is-rate-limited";
import { RelayError } from "../errors/failure-kinds";
import { classifyFailure } from "../outbox/classify-failure";

interface OctokitLikeError {
  status?: number;
  message?: string;
  response?: { headers?: Record<string, string | undefined> };
}

/**
 * SPEC §5 for a failed GitHub call made on a runner's behalf. GitHub's message is not passed on:
 * it can name things the caller may not see, and the status says enough.
 */
export function githubFailure(error: unknown): RelayError {
  if (error instanceof RelayError) return error;
  const { status, response, message } = (error ?? {}) as OctokitLikeError;
  if (isRateLimited(status ?? null, response?.headers ?? {}, message ?? "")) {
    const waitMs = classifyFailure(error).retryAfterMs ?? SECONDARY_LIMIT_DEFAULT_WAIT_MS;
    return new RelayError(
      "github-rate-limited",
      "GitHub's rate limit for the app is exhausted; retry later",
      "github-rate-limited",
      [],
      Math.ceil(waitMs / 1000),
    );
  }
  if (status === 401 || status === 403) {
    return new RelayError(
      "github-permission-denied",
      `GitHub refused the app's request (${status})`,
      "github-permission-denied",
    );
  }
  if (status === 404)
    return new RelayError(
      "repo-not-found",
      "GitHub has no such repository or resource for the app",
      "github-not-found",
    );
  if (status === 422)
    return new RelayError(
      "validation-failed",
      "GitHub refused the request as invalid (422)",
      "github-validation-failed",
    );
  if (status !== undefined && status >= 400 && status < 500) {
    return new RelayError("upstream-invalid-response", `GitHub answered ${status}`, "github-unexpected-status");
  }
  return new RelayError(
    "github-egress-failed",
    status ? `GitHub answered ${status}` : "GitHub could not be reached",
    "github-egress-failed",
  );
}

/** A failure to obtain the installation token: a refused permission set is the app's scope, not the caller's. */
export function tokenFailure(error: unknown): RelayError {
  if ((error as OctokitLikeError).status === 422) {
    return new RelayError(
      "scope-insufficient",
      "the app's installation does not grant the permissions this operation needs",
      "installation-permissions",
    );
  }
  return githubFailure(error);
}
