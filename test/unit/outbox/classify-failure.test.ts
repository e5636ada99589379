import { RequestError } from "@octokit/request-error";
import { githubFailure } from "../../../src/broker/github-failure";
import { RelayError } from "../../../src/errors/failure-kinds";
import { classifyFailure } from "../../../src/outbox/classify-failure";

const NOW = 1_800_000_000_000;
const httpError = (status: number, headers: Record<string, string> = {}, message = `HTTP ${status}`) =>
  Object.assign(new Error(message), { status, response: { headers } });

describe("classifyFailure", () => {
  it.each([
    ["a 5xx", httpError(502), true, null],
    ["a 429 with retry-after", httpError(429, { "retry-after": "30" }), true, 30_000],
    [
      "an exhausted primary limit",
      httpError(403, { "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(NOW / 1000 + 90) }),
      true,
      90_000,
    ],
    [
      "a secondary limit without retry-after",
      httpError(403, { "x-ratelimit-remaining": "4000" }, "You have exceeded a secondary rate limit"),
      true,
      60_000,
    ],
    [
      "a permission error",
      httpError(403, { "x-ratelimit-remaining": "4000" }, "Resource not accessible by integration"),
      false,
      null,
    ],
    ["a validation error", httpError(422), false, null],
    ["a network error", new TypeError("fetch failed"), true, null],
    [
      "the app not installed on the downstream",
      new RelayError("repo-not-found", "not installed", "app-not-installed"),
      false,
      null,
    ],
    ["the store down", new RelayError("store-unavailable", "down"), true, null],
  ])("%s", (_name, error, retryable, retryAfterMs) => {
    expect(classifyFailure(error, NOW)).toMatchObject({ retryable, retryAfterMs });
  });
});

describe("githubFailure (broker)", () => {
  it("answers a secondary rate limit as retryable github-rate-limited, not a permission denial", () => {
    expect(githubFailure(httpError(403, {}, "You have exceeded a secondary rate limit")).kind).toBe(
      "github-rate-limited",
    );
    expect(githubFailure(httpError(403, { "retry-after": "120" })).kind).toBe("github-rate-limited");
    expect(githubFailure(httpError(403, {}, "Resource not accessible by integration")).kind).toBe(
      "github-permission-denied",
    );
  });

  it("tells the runner when to retry: GitHub's retry-after, else a minute", () => {
    expect(githubFailure(httpError(429, { "retry-after": "120" })).retryAfterSeconds).toBe(120);
    expect(githubFailure(httpError(403, {}, "You have exceeded a secondary rate limit")).retryAfterSeconds).toBe(60);
  });
});

describe("classifyFailure summary", () => {
  it("names a DNS failure as one, not as the HTTP 500 Octokit wraps it in", () => {
    const error = new RequestError("getaddrinfo ENOTFOUND github.invalid", 500, {
      request: { method: "POST", url: "http://github.invalid/x", headers: {} },
    });
    expect(classifyFailure(error, NOW)).toEqual({
      retryable: true,
      retryAfterMs: null,
      summary: "DNS failure: could not resolve github.invalid",
    });
  });
});
