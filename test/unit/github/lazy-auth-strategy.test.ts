import { Octokit } from "@octokit/core";
import { lazyAuthStrategy, type AuthStrategyResult } from "../../../src/github/lazy-auth-strategy";

/** A strategy that counts how often it is built and marks the requests it wraps. */
function countingStrategy() {
  const built: unknown[] = [];
  const strategy = (options: { token: string }): AuthStrategyResult => {
    built.push(options);
    const auth = async () => ({ type: "token", token: options.token });
    return Object.assign(auth, {
      hook: async (_request: unknown, route: unknown) => ({
        authorizedWith: options.token,
        url: (route as { url: string }).url,
      }),
    });
  };
  return { built, strategy };
}

describe("lazyAuthStrategy", () => {
  it("builds nothing for a client that sends no request", () => {
    const { built, strategy } = countingStrategy();
    new Octokit({ authStrategy: lazyAuthStrategy(strategy), auth: { token: "t1" } });
    expect(built).toHaveLength(0);
  });

  it("builds the strategy once, on first use, with the client's auth options, and wraps every request with it", async () => {
    const { built, strategy } = countingStrategy();
    const client = new Octokit({ authStrategy: lazyAuthStrategy(strategy), auth: { token: "t2" } });
    const first = (await client.request("GET /repos/{owner}/{repo}", { owner: "o", repo: "r" })) as unknown;
    const second = (await client.request("GET /app")) as unknown;
    expect(first).toEqual({ authorizedWith: "t2", url: "/repos/{owner}/{repo}" });
    expect(second).toEqual({ authorizedWith: "t2", url: "/app" });
    expect(await client.auth()).toEqual({ type: "token", token: "t2" });
    expect(built).toHaveLength(1);
    expect(built[0]).toMatchObject({ token: "t2" });
  });
});
