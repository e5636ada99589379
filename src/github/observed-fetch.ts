import { answeredOutcome } from "./github-call-outcome";
import type { GitHubCall } from "./github-calls";

const OBSERVED = Symbol("ci-relay observed fetch");
type ObservedFetch = typeof fetch & { [OBSERVED]?: true };

/**
 * The `fetch` an Octokit makes its requests with, reporting every HTTP attempt to `observe`: each
 * retry and each answer the throttling and retry plugins see, including those that never got an
 * answer (connection refused, reset, timed out), which no Octokit hook after the request sees.
 * `base` is read at call time so test interceptors installed later still apply.
 */
export function observedFetch(observe: (call: GitHubCall) => Promise<void>, base?: typeof fetch): typeof fetch {
  if (base && (base as ObservedFetch)[OBSERVED]) return base;
  const observed: ObservedFetch = async (input, init) => {
    const method = (init?.method ?? (input instanceof Request ? input.method : "GET")).toUpperCase();
    let response: Response;
    try {
      response = await (base ?? globalThis.fetch)(input, init);
    } catch (error) {
      await observe({ method, status: null, outcome: "network_error" });
      throw error;
    }
    // A secondary rate limit is a 403 that says so only in its message.
    const message =
      response.status === 403
        ? await response
            .clone()
            .text()
            .catch(() => "")
        : "";
    await observe({
      method,
      status: response.status,
      outcome: answeredOutcome(response.status, Object.fromEntries(response.headers), message),
    });
    return response;
  };
  observed[OBSERVED] = true;
  return observed;
}
