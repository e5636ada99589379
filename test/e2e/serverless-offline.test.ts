import { execFile, execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { expect } from "@jest/globals";
import { parse } from "yaml";
import { testAppCredentials } from "../support/app-key";
import { startFakeGitHub, type FakeGitHub } from "../support/fake-github";
import { startOidcIssuer, type OidcIssuer } from "../support/oidc-issuer";
import { cleanupRedisPrefix, testRedisUrl, uniqueRedisPrefix } from "../support/redis-prefix";
import { pullRequestEvent, randomSha, sign, TEST_WEBHOOK_SECRET } from "../support/webhooks";

/**
 * The Lambda deployment tried before deploying: `serverless print --stage local` resolves without AWS,
 * and the three bundled handlers run under serverless-offline (`npm run lambda:local`) against the
 * fake GitHub, the test OIDC issuer and Redis.
 */

const ROOT = resolve(__dirname, "../..");
const SERVERLESS = join(ROOT, "scripts/serverless.mjs");
const UPSTREAM = "pytorch/pytorch";
const DOWNSTREAMS = ["vendor/backend", "other/farm"];
const CONFIG = `
version: 1
upstreams: [${UPSTREAM}]
downstreams:
  - { repo: vendor/backend, level: L2 }
  - { repo: other/farm, level: L2 }
`;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

async function poll<T>(
  what: string,
  probe: () => Promise<T | null>,
  output: () => string,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const found = await probe().catch(() => null);
    if (found !== null) return found;
    await new Promise((done) => setTimeout(done, 250));
  }
  throw new Error(`${what} not seen within ${timeoutMs} ms; serverless output:\n${output().slice(-6000)}`);
}

/** Only what node needs from the test's own environment: a developer's AWS or app settings stay out. */
const baseEnv = () => ({ PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? tmpdir() });

describe("serverless.yml, stage local", () => {
  it("serverless print --stage local resolves without AWS credentials, from the environment and loopback defaults", async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [SERVERLESS, "print", "--stage", "local"], {
      cwd: ROOT,
      env: {
        ...baseEnv(),
        APP_ID: "12345",
        AWS_SHARED_CREDENTIALS_FILE: "/nonexistent",
        AWS_CONFIG_FILE: "/nonexistent",
      },
    });
    const printed = parse(stdout) as { provider: { stage: string; vpc: unknown; environment: Record<string, string> } };
    expect(printed.provider.stage).toBe("local");
    expect(printed.provider.vpc).toBeNull();
    expect(printed.provider.environment).toMatchObject({
      APP_ID: "12345",
      REDIS_URL: "redis://127.0.0.1:6379",
      RELAY_PUBLIC_URL: "http://127.0.0.1:3000",
      PRIVATE_KEY: "",
    });
  }, 90_000);
});

describe("the three handlers under serverless-offline", () => {
  let github: FakeGitHub;
  let issuer: OidcIssuer;
  let offline: ChildProcess;
  let output = "";
  let dir: string;
  let httpPort: number;
  let lambdaPort: number;
  const prefix = uniqueRedisPrefix();
  const url = (path: string) => `http://127.0.0.1:${httpPort}${path}`;
  const dispatchesOf = (delivery: string) =>
    github
      .dispatches()
      .filter((dispatch) => (dispatch.clientPayload as { delivery_id?: string }).delivery_id === delivery);

  beforeAll(async () => {
    execFileSync(process.execPath, [join(ROOT, "scripts/build-lambda.mjs")], { cwd: ROOT, stdio: "pipe" });
    github = await startFakeGitHub();
    github.addInstallation({ id: 11, account: "pytorch", repos: [UPSTREAM] });
    DOWNSTREAMS.forEach((repo, i) =>
      github.addInstallation({ id: 21 + i, account: repo.split("/")[0], repos: [repo] }),
    );
    issuer = await startOidcIssuer();
    dir = mkdtempSync(join(tmpdir(), "ci-relay-offline-"));
    writeFileSync(join(dir, "relay.yml"), CONFIG);
    [httpPort, lambdaPort] = [await freePort(), await freePort()];
    offline = spawn(
      process.execPath,
      [
        SERVERLESS,
        "offline",
        "start",
        "--stage",
        "local",
        "--httpPort",
        String(httpPort),
        "--lambdaPort",
        String(lambdaPort),
      ],
      {
        cwd: ROOT,
        env: {
          ...baseEnv(),
          APP_ID: String(github.appId),
          PRIVATE_KEY: testAppCredentials().privateKeyPem,
          WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
          GHE_HOST: github.host,
          GHE_PROTOCOL: "http",
          REDIS_URL: testRedisUrl(),
          REDIS_PREFIX: prefix,
          RELAY_CONFIG: join(dir, "relay.yml"),
          RELAY_PUBLIC_URL: `http://127.0.0.1:${httpPort}`,
          RELAY_TOKEN_SECRET: "offline-e2e-relay-token-secret-0123456789abcdef",
          OIDC_ISSUER: issuer.url,
          LOG_LEVEL: "warn",
        },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    offline.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    offline.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    await poll(
      "GET /relay/health answering 200 through the http function",
      async () => ((await fetch(url("/relay/health"))).status === 200 ? true : null),
      () => output,
    );
  }, 120_000);

  afterAll(async () => {
    if (offline && offline.exitCode === null) {
      const exited = new Promise((done) => offline.once("close", done));
      offline.kill("SIGTERM");
      await exited;
    }
    await cleanupRedisPrefix(prefix);
    await Promise.all([github?.close(), issuer?.close()]);
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it("webhook function: a signed delivery is dispatched to every downstream; a forged one is refused", async () => {
    const body = JSON.stringify(
      pullRequestEvent("opened", {
        repo: UPSTREAM,
        installationId: 11,
        authorAssociation: "MEMBER",
        number: 7,
        headSha: randomSha(),
      }),
    );
    const post = (delivery: string, signature: string) =>
      fetch(url("/api/github/webhooks"), {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-github-event": "pull_request",
          "x-github-delivery": delivery,
          "x-hub-signature-256": signature,
        },
        body,
      });
    expect((await post("offline-forged", sign(body, "wrong-secret"))).status).toBe(400);
    expect((await post("offline-signed", sign(body, TEST_WEBHOOK_SECRET))).status).toBe(200);
    await poll(
      "a dispatch to each downstream",
      async () => (dispatchesOf("offline-signed").length === 2 ? true : null),
      () => output,
    );
    expect(
      dispatchesOf("offline-signed")
        .map((dispatch) => dispatch.repo)
        .sort(),
    ).toEqual([...DOWNSTREAMS].sort());
    expect(dispatchesOf("offline-forged")).toEqual([]);
  }, 90_000);

  it("http function: the downstream's callback is verified and moves its job to in progress", async () => {
    const [dispatch] = dispatchesOf("offline-signed").filter((candidate) => candidate.repo === "vendor/backend");
    const relay = (dispatch.clientPayload as { relay: { callback_url: string; callback_token: string } }).relay;
    expect(relay.callback_url).toBe(url("/relay/v1/callback"));
    const response = await fetch(relay.callback_url, {
      method: "POST",
      headers: {
        authorization: `Bearer ${await issuer.mint({ repository: "vendor/backend" })}`,
        "content-type": "application/json",
      },
      body: JSON.stringify({
        relay_token: relay.callback_token,
        workflow: {
          status: "in_progress",
          scope: "job",
          name: "CI",
          run_id: "4242",
          run_attempt: "1",
          job_name: "build",
        },
      }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ ok: true, state: "IN_PROGRESS" });
  }, 60_000);

  it("scheduled function, invoked through serverless-offline's Lambda API, sends a dispatch that failed in the webhook invocation", async () => {
    // Octokit retries a 5xx three times within the request (1 s, 4 s, 9 s apart); failing all four
    // leaves the dispatch to the outbox, past the webhook invocation, for a later (scheduled) one.
    github.failNext({ method: "POST", path: "/repos/other/farm/dispatches", status: 502, times: 4 });
    const body = JSON.stringify(
      pullRequestEvent("opened", {
        repo: UPSTREAM,
        installationId: 11,
        authorAssociation: "MEMBER",
        number: 8,
        headSha: randomSha(),
      }),
    );
    const answer = await fetch(url("/api/github/webhooks"), {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-github-event": "pull_request",
        "x-github-delivery": "offline-retry",
        "x-hub-signature-256": sign(body, TEST_WEBHOOK_SECRET),
      },
      body,
    });
    expect(answer.status).toBe(200);
    const invokeScheduled = async () => {
      const response = await fetch(
        `http://127.0.0.1:${lambdaPort}/2015-03-31/functions/ci-relay-local-scheduled/invocations`,
        {
          method: "POST",
          body: JSON.stringify({ source: "aws.events", "detail-type": "Scheduled Event", detail: {} }),
        },
      );
      expect(response.status).toBe(200);
      return (await response.json()) as { timedOut: number; redeliveries: number; ran: number };
    };
    // The outbox retry is due seconds after the last failure; until then an invocation finds nothing due.
    let ran = 0;
    await poll(
      "the failed dispatch sent by a scheduled invocation",
      async () => {
        const outcome = await invokeScheduled();
        expect(outcome).toEqual({
          timedOut: expect.any(Number),
          redeliveries: expect.any(Number),
          ran: expect.any(Number),
        });
        ran += outcome.ran;
        return dispatchesOf("offline-retry").some((dispatch) => dispatch.repo === "other/farm") ? true : null;
      },
      () => output,
    );
    expect(ran).toBeGreaterThanOrEqual(1);
    expect(
      dispatchesOf("offline-retry")
        .map((dispatch) => dispatch.repo)
        .sort(),
    ).toEqual([...DOWNSTREAMS].sort());
  }, 90_000);
});
