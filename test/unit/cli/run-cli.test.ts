import { runCli } from "../../../src/cli/run-cli";
import { COMMANDS } from "../../../src/cli/commands";
import type { FailureBody } from "../../../src/errors/failure-kinds";
import { parseJson } from "../../support/read-json";

function harness(env: NodeJS.ProcessEnv) {
  const calls: { url: string; init?: RequestInit }[] = [];
  const printed: string[] = [];
  const errors: string[] = [];
  const fetchStub = (async (url: string, init?: RequestInit) => {
    calls.push({ url, init });
    if (url.includes("/_apis/token")) return new Response(JSON.stringify({ value: "oidc.jwt.value" }), { status: 200 });
    return new Response(JSON.stringify({ ok: true, echoed: parseJson<unknown>(String(init?.body)) }), { status: 200 });
  }) as typeof fetch;
  return {
    calls,
    printed,
    errors,
    io: {
      env,
      fetch: fetchStub,
      print: (line: string) => printed.push(line),
      error: (line: string) => errors.push(line),
    },
  };
}

const runtime = {
  ACTIONS_ID_TOKEN_REQUEST_URL: "http://runtime/_apis/token?api-version=2.0",
  ACTIONS_ID_TOKEN_REQUEST_TOKEN: "req",
};

describe("runCli", () => {
  it("asks the runtime for a broker-audience token and sends a structured request", async () => {
    const { calls, printed, io } = harness({ ...runtime, CI_RELAY_URL: "http://relay/" });
    const code = await runCli(
      ["broker", "github.issue.read", "--repo", "o/r", "--number", "5", "--json-fields", "title, state", "--dry-run"],
      io,
    );
    expect(code).toBe(0);
    expect(calls[0].url).toBe("http://runtime/_apis/token?api-version=2.0&audience=ci-relay-broker");
    expect(calls[1].url).toBe("http://relay/relay/v1/github/gh");
    expect(new Headers(calls[1].init?.headers).get("authorization")).toBe("Bearer oidc.jwt.value");
    expect(parseJson<{ echoed: unknown }>(printed[0]).echoed).toMatchObject({
      repo: "o/r",
      operation: "github.issue.read",
      dryRun: true,
      params: { number: 5, jsonFields: ["title", "state"] },
    });
  });

  it("without CI_RELAY_URL answers broker-needed and calls nothing, whatever tokens the environment holds", async () => {
    const { calls, printed, errors, io } = harness({ ...runtime, GH_TOKEN: "ghp_x", GITHUB_TOKEN: "ghs_y" });
    expect(await runCli(["broker", "github.issue.read", "--repo", "o/r", "--number", "5"], io)).toBe(1);
    expect(calls).toHaveLength(0);
    expect(JSON.parse(printed[0])).toEqual({
      ok: false,
      failureKind: "auth-missing",
      degradedReason: "broker-needed",
      runnerDisposition: "infra-blocked",
      brokerNeeded: true,
    });
    expect(errors).toEqual([expect.stringMatching(/^ci-relay: CI_RELAY_URL: /)]);
  });

  it.each([
    [["broker"], "<operation>"],
    [["broker", "github.issue.read", "--repo", "o/r", "--number", "five"], "--number"],
    [["broker", "github.issue.read", "--repo", "o/r", "--dry-run", "--live"], "--live"],
    [["broker", "github.issue.read", "--number", "5"], "--repo"],
    [["broker", "github.issue.read", "--repo", "o/r", "--url", "https://x"], "--url"],
    [["broker", "github.issue.read", "--repo"], "--repo"],
    [["callback", "--status", "completed", "--test-results", "{"], "--test-results"],
    [["pr-preflight", "--repo", "o/r", "--base", "main"], "--head"],
  ])(
    "refuses bad usage %j with exit 2, one stderr line naming %s, JSON on stdout, and calls nothing",
    async (args, subject) => {
      const { calls, printed, errors, io } = harness({
        ...runtime,
        CI_RELAY_URL: "http://relay",
        GITHUB_EVENT_PATH: require.resolve("../../../package.json"),
      });
      expect(await runCli(args, io)).toBe(2);
      expect(calls).toHaveLength(0);
      expect(errors).toEqual([`ci-relay: ${subject}: ${errors[0]?.slice(`ci-relay: ${subject}: `.length)}`]);
      expect(JSON.parse(printed[0])).toMatchObject({ ok: false, failureKind: "validation-failed" });
    },
  );

  it("refuses an operation outside the table as operation-not-allowed, listing the table, without calling the relay", async () => {
    const { calls, printed, errors, io } = harness({ ...runtime });
    expect(await runCli(["broker", "github.repo.delete", "--repo", "o/r"], io)).toBe(2);
    expect(calls).toHaveLength(0);
    const answer = parseJson<FailureBody>(printed[0]);
    expect(answer).toMatchObject({ ok: false, failureKind: "operation-not-allowed" });
    expect(answer.message).toContain("github.pr.comment.create");
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain("operation-not-allowed");
  });

  it("names an unknown command and lists the known ones, exit 2", async () => {
    const { printed, errors, io } = harness({});
    expect(await runCli(["shell", "rm"], io)).toBe(2);
    expect(printed).toEqual([]);
    expect(errors).toEqual([
      `ci-relay: shell: unknown command, one of ${COMMANDS.map((command) => command.name).join(", ")}`,
    ]);
  });

  it("--help lists every command, exit 0", async () => {
    const { printed, io } = harness({});
    expect(await runCli(["--help"], io)).toBe(0);
    for (const name of ["broker", "pr-preflight", "callback", "worker", "dlq", "replay", "doctor", "levels"])
      expect(printed.join("\n")).toMatch(new RegExp(`^  ${name} `, "m"));
    expect(printed.join("\n")).toContain("exit codes: 0 ok, 1 refused or failed, 2 usage");
  });

  it.each(COMMANDS.map((command) => [command.name]))(
    "%s --help lists every option it accepts and the variables it reads",
    async (name) => {
      const command = COMMANDS.find((candidate) => candidate.name === name)!;
      const { calls, printed, io } = harness({});
      expect(await runCli([name, "--help"], io)).toBe(0);
      expect(await runCli(["help", name], io)).toBe(0);
      expect(calls).toHaveLength(0);
      const help = printed[0];
      expect(printed[1]).toBe(help);
      for (const option of Object.keys(command.options)) expect(help).toContain(`--${option}`);
      for (const variable of Object.keys(command.environment)) expect(help).toContain(variable);
    },
  );

  it("with no command says one is required, exit 2", async () => {
    const { errors, io } = harness({});
    expect(await runCli([], io)).toBe(2);
    expect(errors).toEqual(["ci-relay: <command>: required (ci-relay --help lists them)"]);
  });

  it.each([
    [["worker", "--exec", "./run.sh", "--idle-ms", "0"], "ci-relay: --idle-ms: must be a positive integer"],
    [["dlq", "list", "--idle-ms", "5"], "ci-relay: --idle-ms: unknown option for dlq (ci-relay dlq --help lists them)"],
    [["dlq", "list", "--count", "x"], "ci-relay: --count: must be a positive integer"],
  ])("%j is refused before Redis is touched: %s", async (args, line) => {
    const { printed, errors, io } = harness({ REDIS_URL: "redis://127.0.0.1:1" });
    expect(await runCli(args, io)).toBe(2);
    expect(printed).toEqual([]);
    expect(errors).toEqual([line]);
  });

  it("worker without REDIS_URL names the variable in one line, exit 2", async () => {
    const { printed, errors, io } = harness({});
    expect(await runCli(["worker", "--exec", "./run.sh"], io)).toBe(2);
    expect(printed).toEqual([]);
    expect(errors).toEqual(["ci-relay: REDIS_URL: required for worker"]);
  });

  it.each([
    ["worker", "--exec", "./run.sh"],
    ["dlq", "list"],
  ])("%j with a REDIS_URL that is not redis:// is refused as the relay refuses it, exit 2", async (...args) => {
    const { printed, errors, io } = harness({ REDIS_URL: "http://127.0.0.1:6379" });
    expect(await runCli(args, io)).toBe(2);
    expect(printed).toEqual([]);
    expect(errors).toEqual(["ci-relay: REDIS_URL: must be a redis:// or rediss:// URL"]);
  });
});
