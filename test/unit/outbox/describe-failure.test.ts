import { RequestError } from "@octokit/request-error";
import { RelayError } from "../../../src/errors/failure-kinds";
import { describeFailure } from "../../../src/outbox/describe-failure";

const NOW = Date.parse("2026-12-01T11:58:00Z");
const request = { method: "POST" as const, url: "http://github.test/repos/o/r/dispatches", headers: {} };
/** What Octokit throws for a network failure: status 500, no response, only the cause's message. */
const octokitNetworkError = (message: string) => new RequestError(message, 500, { request });
const githubAnswer = (status: number, headers: Record<string, string> = {}, message = "x") =>
  new RequestError(message, status, { request, response: { status, url: request.url, headers, data: {} } });
const systemError = (code: string, message: string) => Object.assign(new Error(message), { code });

describe("describeFailure", () => {
  it.each([
    [
      "Octokit's DNS failure (ENOTFOUND)",
      octokitNetworkError("getaddrinfo ENOTFOUND github.invalid"),
      "DNS failure: could not resolve github.invalid",
    ],
    [
      "a DNS lookup that could not be made (EAI_AGAIN)",
      octokitNetworkError("getaddrinfo EAI_AGAIN github.example"),
      "DNS failure: could not resolve github.example",
    ],
    [
      "fetch's TypeError with a system cause",
      Object.assign(new TypeError("fetch failed"), {
        cause: systemError("ENOTFOUND", "getaddrinfo ENOTFOUND ghe.corp"),
      }),
      "DNS failure: could not resolve ghe.corp",
    ],
    ["connection refused", octokitNetworkError("connect ECONNREFUSED 127.0.0.1:9"), "connection refused"],
    ["a peer that hung up (undici)", octokitNetworkError("other side closed"), "connection reset"],
    ["ECONNRESET by code", systemError("ECONNRESET", "read ECONNRESET"), "connection reset"],
    ["ETIMEDOUT", octokitNetworkError("connect ETIMEDOUT 10.0.0.1:443"), "timed out"],
    ["an abort", Object.assign(new Error("This operation was aborted"), { name: "AbortError" }), "timed out"],
    ["a 502 from GitHub", githubAnswer(502), "HTTP 502 from GitHub"],
    ["a real 500 from GitHub (it has a response)", githubAnswer(500), "HTTP 500 from GitHub"],
    [
      "a primary rate limit",
      githubAnswer(403, {
        "x-ratelimit-remaining": "0",
        "x-ratelimit-reset": String(Date.parse("2026-12-01T12:03:00Z") / 1000),
      }),
      "rate limited until 12:03 UTC",
    ],
    ["a 429 with retry-after seconds", githubAnswer(429, { "retry-after": "120" }), "rate limited until 12:00 UTC"],
    [
      "a secondary limit naming no time",
      githubAnswer(403, {}, "You have exceeded a secondary rate limit"),
      "rate limited by GitHub (HTTP 403)",
    ],
    [
      "a HUD-style fetch answer",
      Object.assign(new Error("HUD answered 503"), { status: 503, response: { headers: {} } }),
      "HTTP 503",
    ],
    [
      "a relay error says its own words",
      new RelayError("repo-not-found", "the app is not installed on vendor/x", "app-not-installed"),
      "the app is not installed on vendor/x",
    ],
    ["an unknown network error", new TypeError("fetch failed"), "network error: fetch failed"],
  ])("%s", (_name, error, expected) => {
    expect(describeFailure(error, NOW)).toBe(expected);
  });
});
