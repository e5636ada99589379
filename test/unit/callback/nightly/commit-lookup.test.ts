import { decideUpstreamCommit, failedLookup, type CommitLookup } from "../../../../src/callback/nightly/commit-lookup";
import { FAILURE_KINDS, RelayError } from "../../../../src/errors/failure-kinds";

const octokitError = (status: number, headers: Record<string, string> = {}, message = "") =>
  Object.assign(new Error(message), { status, response: { headers } });
const kindOf = (lookups: CommitLookup[]) => {
  try {
    return decideUpstreamCommit(lookups);
  } catch (error) {
    return error instanceof RelayError ? `${error.kind}/${error.degradedReason}` : "thrown";
  }
};

describe("is the SHA an upstream commit (SPEC §4)", () => {
  it("takes GitHub's 404 and 422 as 'not a commit here'", () => {
    expect(failedLookup("p/p", octokitError(404))).toEqual({ upstream: "p/p", result: "unknown" });
    expect(failedLookup("p/p", octokitError(422))).toEqual({ upstream: "p/p", result: "unknown" });
  });

  it.each([
    ["a 502", octokitError(502), "github-egress-failed", true],
    ["no answer", new TypeError("fetch failed"), "github-egress-failed", true],
    ["a primary rate limit", octokitError(403, { "x-ratelimit-remaining": "0" }), "github-rate-limited", true],
    [
      "a secondary rate limit",
      octokitError(403, {}, "You have exceeded a secondary rate limit"),
      "github-rate-limited",
      true,
    ],
    ["a 429", octokitError(429, { "retry-after": "30" }), "github-rate-limited", true],
    ["the app refused", octokitError(401), "github-permission-denied", false],
  ])("keeps the question open on %s, as a %s failure", (_name, error, kind, retryable) => {
    const lookup = failedLookup("p/p", error);
    expect(lookup.result).toBe("failed");
    if (lookup.result !== "failed") return;
    expect(lookup.failure.kind).toBe(kind);
    expect(FAILURE_KINDS[lookup.failure.kind].retryable).toBe(retryable);
  });

  it("names the first upstream that holds the commit, even when another could not be asked", () => {
    const outage = failedLookup("a/a", octokitError(502));
    expect(decideUpstreamCommit([outage, { upstream: "b/b", result: "commit" }])).toBe("b/b");
    expect(
      decideUpstreamCommit([
        { upstream: "a/a", result: "unknown" },
        { upstream: "b/b", result: "commit" },
      ]),
    ).toBe("b/b");
  });

  it("refuses the SHA only when every upstream answered that it is not theirs", () => {
    expect(
      kindOf([
        { upstream: "a/a", result: "unknown" },
        { upstream: "b/b", result: "unknown" },
      ]),
    ).toBe("validation-failed/commit-unknown");
    expect(kindOf([])).toBe("validation-failed/commit-unknown");
  });

  it("never admits nor refuses a SHA an upstream could not be asked about: the outage is the answer", () => {
    expect(kindOf([{ upstream: "a/a", result: "unknown" }, failedLookup("b/b", octokitError(503))])).toBe(
      "github-egress-failed/github-egress-failed",
    );
    expect(kindOf([failedLookup("a/a", octokitError(403, { "x-ratelimit-remaining": "0" }))])).toBe(
      "github-rate-limited/github-rate-limited",
    );
  });
});
