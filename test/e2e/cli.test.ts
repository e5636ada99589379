import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startFakeGitHub, type FakeGitHub } from "../support/fake-github";
import { startOidcIssuer, type ActionsRuntime, type OidcIssuer } from "../support/oidc-issuer";
import { parseJson } from "../support/read-json";
import { cleanupRedisPrefix, startRelayServer, type RelayServer } from "../support/server-harness";

const BIN = resolve(__dirname, "../../bin/ci-relay.js");
const UPSTREAM = "pytorch/pytorch";

const CONFIG = `
version: 1
upstreams: [${UPSTREAM}]
downstreams:
  - { repo: octo-org/downstream, level: L1 }
broker:
  - caller: { repository: octo-org/downstream }
    repos: [${UPSTREAM}]
    operations: [github.issue.read, github.pr.read, github.pr.comment.create]
    live: [github.pr.comment.create]
`;

interface CliRun {
  code: number | null;
  /** stdout's first line, parsed; asserted by shape */
  answer: Record<string, unknown>;
  stdout: string;
  stderr: string;
}

/** Runs the published bin the way a workflow step would (`npx ci-relay ...`), with only the given env. */
function cli(args: string[], env: Record<string, string>): Promise<CliRun> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { PATH: process.env.PATH ?? "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    // stderr carries one human line on failure; the answer machines read is stdout's first line.
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.once("error", fail);
    child.once("close", (code) => {
      const firstLine = stdout.split("\n")[0];
      let answer: Record<string, unknown> = {};
      try {
        answer = parseJson<Record<string, unknown>>(firstLine);
      } catch {
        // asserted by the caller through stdout
      }
      done({ code, answer, stdout, stderr });
    });
  });
}

describe("ci-relay CLI against the real server", () => {
  let github: FakeGitHub;
  let issuer: OidcIssuer;
  let relay: RelayServer;
  let runtime: ActionsRuntime;
  let runnerEnv: Record<string, string>;

  beforeAll(async () => {
    github = await startFakeGitHub();
    github.addInstallation({ id: 11, account: "pytorch", repos: [UPSTREAM] });
    github.setIssue(UPSTREAM, { number: 59, title: "Flaky test on NPU" });
    github.setPull(UPSTREAM, { number: 60, title: "Fix NPU dispatch" });
    issuer = await startOidcIssuer();
    relay = await startRelayServer({
      fakeGitHub: github,
      configYaml: CONFIG,
      env: { OIDC_ISSUER: issuer.url, RELAY_TOKEN_SECRET: "relay-token-secret-for-cli-tests-0123456789" },
    });
    runtime = issuer.actionsRuntime();
    runnerEnv = {
      CI_RELAY_URL: relay.baseUrl,
      ACTIONS_ID_TOKEN_REQUEST_URL: runtime.requestUrl,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: runtime.requestToken,
    };
  });

  afterAll(async () => {
    await relay?.stop();
    await cleanupRedisPrefix(relay?.redisPrefix ?? "");
    await github?.close();
    await issuer?.close();
  });

  it("reads an upstream PR with a broker-audience token from the Actions runtime", async () => {
    const run = await cli(
      ["broker", "github.pr.read", "--repo", UPSTREAM, "--number", "60", "--json-fields", "title,number"],
      runnerEnv,
    );
    expect(run.code).toBe(0);
    expect(run.answer).toMatchObject({
      ok: true,
      operation: "github.pr.read",
      data: { title: "Fix NPU dispatch", number: 60 },
    });
    expect(issuer.runtimeAudiences.at(-1)).toBe("ci-relay-broker");
  });

  it("plans a comment by default and posts it with --live", async () => {
    const planned = await cli(
      ["broker", "github.pr.comment.create", "--repo", UPSTREAM, "--number", "60", "--body", "from the CLI"],
      runnerEnv,
    );
    expect(planned.code).toBe(0);
    expect(planned.answer).toMatchObject({ ok: true, dryRun: true, writesRemote: false, planned: { method: "POST" } });
    expect(github.comments(UPSTREAM, 60)).toHaveLength(0);
    const live = await cli(
      ["broker", "github.pr.comment.create", "--repo", UPSTREAM, "--number", "60", "--body", "from the CLI", "--live"],
      runnerEnv,
    );
    expect(live.code).toBe(0);
    expect(github.comments(UPSTREAM, 60)).toHaveLength(1);
  });

  it("exits non-zero with the relay's failure answer", async () => {
    const run = await cli(
      ["broker", "github.pr.create", "--repo", UPSTREAM, "--title", "t", "--head", "x", "--base", "main"],
      runnerEnv,
    );
    expect(run.code).not.toBe(0);
    expect(run.answer).toMatchObject({ ok: false, failureKind: "operation-not-allowed" });
  });

  it("runs pr-preflight", async () => {
    const run = await cli(["pr-preflight", "--repo", UPSTREAM, "--base", "main", "--head", "npu-fix"], runnerEnv);
    expect(run.code).toBe(0);
    expect(run.answer).toMatchObject({
      ok: true,
      tokenCoverage: { runnerEnvTokenRequired: false },
      prCapabilityContract: { targetBranch: "main" },
    });
  });

  it("without CI_RELAY_URL answers broker-needed and never uses GH_TOKEN", async () => {
    const before = { github: github.requests.length, runtime: issuer.requests.runtimeToken };
    const env = { ...runnerEnv, GH_TOKEN: "ghp_should_never_be_used", GITHUB_TOKEN: "ghs_should_never_be_used" };
    delete (env as Record<string, string | undefined>).CI_RELAY_URL;
    const run = await cli(["broker", "github.issue.read", "--repo", UPSTREAM, "--number", "59"], env);
    expect(run.code).not.toBe(0);
    expect(run.answer).toEqual({
      ok: false,
      failureKind: "auth-missing",
      degradedReason: "broker-needed",
      runnerDisposition: "infra-blocked",
      brokerNeeded: true,
    });
    expect(run.stdout + run.stderr).not.toContain("should_never_be_used");
    expect({ github: github.requests.length, runtime: issuer.requests.runtimeToken }).toEqual(before);
  });

  it("without the id-token permission answers auth-missing", async () => {
    const run = await cli(["broker", "github.issue.read", "--repo", UPSTREAM, "--number", "59"], {
      CI_RELAY_URL: relay.baseUrl,
    });
    expect(run.code).not.toBe(0);
    expect(run.answer).toMatchObject({ ok: false, failureKind: "auth-missing", runnerDisposition: "infra-blocked" });
  });

  it("callback posts to the client_payload's callback URL with a callback-audience token and the relay token", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ci-relay-cli-"));
    try {
      const eventPath = join(dir, "event.json");
      writeFileSync(
        eventPath,
        JSON.stringify({
          client_payload: {
            event_type: "pull_request",
            delivery_id: "d-1",
            relay: { callback_url: `${relay.baseUrl}/relay/v1/callback`, callback_token: "not-a-relay-token" },
          },
        }),
      );
      const run = await cli(["callback", "--status", "in_progress", "--job-name", "build"], {
        ...runnerEnv,
        GITHUB_EVENT_PATH: eventPath,
        GITHUB_RUN_ID: "1",
        GITHUB_RUN_ATTEMPT: "1",
      });
      // The relay received and judged it: a forged relay token is refused, proving the request arrived authenticated by OIDC.
      expect(run.code).not.toBe(0);
      expect(run.answer).toMatchObject({ ok: false, failureKind: "token-invalid" });
      expect(issuer.runtimeAudiences.at(-1)).toBe("ci-relay-callback");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses unknown flags with a usage error", async () => {
    const run = await cli(["broker", "github.issue.read", "--repo", UPSTREAM, "--path", "/user"], runnerEnv);
    expect(run.code).toBe(2);
    expect(run.answer).toMatchObject({ ok: false, failureKind: "validation-failed" });
    expect(run.stderr).toBe("ci-relay: --path: unknown option for broker (ci-relay broker --help lists them)\n");
  });
});
