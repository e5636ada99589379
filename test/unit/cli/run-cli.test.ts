import { runCli } from "../../../src/cli/run-cli";

function harness(env: NodeJS.ProcessEnv) {
  const calls: { url: string; init?: RequestInit }[] = [];
  const printed: string[] = [];
  const fetchStub = (async (url: string, init?: RequestInit) => {
    calls.push({ url, init });
    if (url.includes("/_apis/token")) return new Response(JSON.stringify({ value: "oidc.jwt.value" }), { status: 200 });
    return new Response(JSON.stringify({ ok: true, echoed: JSON.parse(String(init?.body)) }), { status: 200 });
  }) as typeof fetch;
  return { calls, printed, io: { env, fetch: fetchStub, print: (line: string) => printed.push(line) } };
}

const runtime = { ACTIONS_ID_TOKEN_REQUEST_URL: "http://runtime/_apis/token?api-version=2.0", ACTIONS_ID_TOKEN_REQUEST_TOKEN: "req" };

describe("runCli", () => {
  it("asks the runtime for a broker-audience token and sends a structured request", async () => {
    const { calls, printed, io } = harness({ ...runtime, CI_RELAY_URL: "http://relay/" });
    const code = await runCli(["broker", "github.issue.read", "--repo", "o/r", "--number", "5", "--json-fields", "title, state", "--dry-run"], io);
    expect(code).toBe(0);
    expect(calls[0].url).toBe("http://runtime/_apis/token?api-version=2.0&audience=ci-relay-broker");
    expect(calls[1].url).toBe("http://relay/relay/v1/github/gh");
    expect(new Headers(calls[1].init?.headers).get("authorization")).toBe("Bearer oidc.jwt.value");
    expect(JSON.parse(printed[0]).echoed).toMatchObject({ repo: "o/r", operation: "github.issue.read", dryRun: true, params: { number: 5, jsonFields: ["title", "state"] } });
  });

  it("without CI_RELAY_URL answers broker-needed and calls nothing, whatever tokens the environment holds", async () => {
    const { calls, printed, io } = harness({ ...runtime, GH_TOKEN: "ghp_x", GITHUB_TOKEN: "ghs_y" });
    expect(await runCli(["broker", "github.issue.read", "--repo", "o/r", "--number", "5"], io)).toBe(1);
    expect(calls).toHaveLength(0);
    expect(JSON.parse(printed[0])).toEqual({ ok: false, failureKind: "auth-missing", degradedReason: "broker-needed", runnerDisposition: "infra-blocked", brokerNeeded: true });
  });

  it.each([
    [["broker"]],
    [["broker", "github.issue.read", "--repo", "o/r", "--number", "five"]],
    [["broker", "github.issue.read", "--repo", "o/r", "--dry-run", "--live"]],
    [["shell", "rm"]],
    [["broker", "github.issue.read", "--repo", "o/r", "--url", "https://x"]],
  ])("refuses bad usage %j with exit 2 and calls nothing", async (args) => {
    const { calls, io } = harness({ ...runtime, CI_RELAY_URL: "http://relay" });
    expect(await runCli(args, io)).toBe(2);
    expect(calls).toHaveLength(0);
  });
});
