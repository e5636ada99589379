import { failureBody, RelayError } from "../../../src/errors/failure-kinds";

describe("failureBody", () => {
  it("sends Retry-After on every 429: the error's wait, rounded up, at least a second", () => {
    expect(failureBody(new RelayError("rate-limited", "slow down", "x", [], 12.2), "r").headers).toEqual({
      "retry-after": "13",
    });
    expect(failureBody(new RelayError("rate-limited", "slow down", "x", [], 0), "r").headers).toEqual({
      "retry-after": "1",
    });
    expect(failureBody(new RelayError("github-rate-limited", "GitHub says wait"), "r").headers).toEqual({
      "retry-after": "60",
    });
  });

  it("sends no Retry-After on other failures", () => {
    expect(failureBody(new RelayError("store-unavailable", "down"), "r").headers).toEqual({});
  });
});
