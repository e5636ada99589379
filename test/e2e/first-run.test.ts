import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { expect } from "@jest/globals";
import { testAppCredentials } from "../support/app-key";
import { startFakeGitHub, type FakeGitHub } from "../support/fake-github";
import { cleanupRedisPrefix, testRedisUrl, uniqueRedisPrefix } from "../support/redis-prefix";
import { freePort, startRelayServer, type RelayServer } from "../support/server-harness";
import { pullRequestEvent, randomSha, sendWebhook, sign } from "../support/webhooks";

/**
 * The README's first run: Probot's setup flow writes the App's credentials to `.env` in the working
 * directory, and the next `npm start` (`node lib/main.js`) must be the relay with every guard, not
 * Probot's stock server.
 */

const MAIN = resolve(__dirname, "../../lib/main.js");
// Each start-up below may wait up to a minute on a loaded machine.
jest.setTimeout(120_000);
const DOT_ENV_SECRET = "secret-written-to-dot-env-by-setup";
const CONFIG = `
version: 1
upstreams: [pytorch/pytorch]
downstreams:
  - { repo: quiet/observer, level: L1 }
`;

/** What the relay would otherwise take from the harness's environment: here only `.env` holds it. */
const ONLY_IN_DOT_ENV = {
  APP_ID: undefined,
  PRIVATE_KEY: undefined,
  WEBHOOK_SECRET: undefined,
  GHE_HOST: undefined,
  GHE_PROTOCOL: undefined,
  RELAY_CONFIG: undefined,
};

let github: FakeGitHub;
const dirs: string[] = [];
const prefixes: string[] = [];

beforeAll(async () => {
  github = await startFakeGitHub();
  github.addInstallation({ id: 11, account: "pytorch", repos: ["pytorch/pytorch"] });
  github.addInstallation({ id: 23, account: "quiet", repos: ["quiet/observer"] });
});
afterAll(async () => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  for (const prefix of prefixes) await cleanupRedisPrefix(prefix);
  await github?.close();
});

/** `.env` as Probot's setup flow writes it (update-dotenv; the PEM double-quoted across lines). */
function setupDotEnv(overrides: Record<string, string> = {}): string {
  const vars: Record<string, string> = {
    APP_ID: String(github.appId),
    PRIVATE_KEY: `"${testAppCredentials().privateKeyPem.trim()}"`,
    WEBHOOK_SECRET: DOT_ENV_SECRET,
    GITHUB_CLIENT_ID: "Iv1.0123456789abcdef",
    GHE_HOST: github.host,
    GHE_PROTOCOL: "http",
    ...overrides,
  };
  return Object.entries(vars)
    .map(([name, value]) => `${name}=${value}`)
    .join("\n");
}

function workDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "ci-relay-first-run-"));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

interface Exit {
  code: number | null;
  stderr: string;
  stdout: string;
}

/** Runs the relay in `cwd` until it exits by itself (a start-up error); killed after a minute. */
function runUntilExit(cwd: string, env: Record<string, string> = {}): Promise<Exit> {
  const prefix = uniqueRedisPrefix();
  prefixes.push(prefix);
  const child = spawn(process.execPath, [MAIN], {
    cwd,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      REDIS_URL: testRedisUrl(),
      REDIS_PREFIX: prefix,
      PORT: "1",
      LOG_FORMAT: "json",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  const killer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  return new Promise((done) =>
    child.once("close", (code) => {
      clearTimeout(killer);
      done({ code, stderr, stdout });
    }),
  );
}

describe("npm start with the credentials in .env", () => {
  let relay: RelayServer;

  beforeAll(async () => {
    const cwd = workDir({ ".env": setupDotEnv(), "relay.yml": CONFIG });
    relay = await startRelayServer({ fakeGitHub: github, cwd, env: ONLY_IN_DOT_ENV, readyTimeoutMs: 60_000 });
    prefixes.push(relay.redisPrefix);
  });
  afterAll(async () => {
    await relay?.stop();
  });

  it("is the relay: /relay/health answers and a PR is dispatched with the App's credentials", async () => {
    const health = await fetch(relay.url("/relay/health"));
    expect(health.status).toBe(200);
    expect(health.headers.get("content-type")).toContain("application/json");
    const payload = pullRequestEvent("opened", {
      repo: "pytorch/pytorch",
      installationId: 11,
      authorAssociation: "MEMBER",
      headSha: randomSha(),
    });
    const answer = await sendWebhook(relay.baseUrl, {
      event: "pull_request",
      payload,
      secret: DOT_ENV_SECRET,
      deliveryId: "first-run-pr",
    });
    expect(answer.status).toBe(200);
    await github.waitForCount(
      (r) =>
        r.path.endsWith("/dispatches") &&
        (r.body as { client_payload?: { delivery_id?: string } })?.client_payload?.delivery_id === "first-run-pr",
      1,
      30_000,
    );
  });

  it("guards webhooks: a bad signature is a §5 400, and no signature or payload is logged", async () => {
    const body = JSON.stringify({ action: "opened", marker: "payload-marker-7f3a" });
    const forged = sign(body, "not-the-secret");
    const answer = await sendWebhook(relay.baseUrl, { event: "pull_request", rawBody: body, signature: forged });
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.text)).toMatchObject({ ok: false, failureKind: "validation-failed" });
    const genuine = sign(body, DOT_ENV_SECRET);
    await sendWebhook(relay.baseUrl, { event: "pull_request", rawBody: body, secret: DOT_ENV_SECRET });
    await relay.waitForLog((r) => typeof r.msg === "string" && r.msg.includes("POST /api/github/webhooks"), 30_000);
    expect(relay.logs()).not.toContain(forged.slice(7));
    expect(relay.logs()).not.toContain(genuine.slice(7));
    expect(relay.logs()).not.toContain("payload-marker-7f3a");
    expect(relay.logs()).not.toContain(DOT_ENV_SECRET);
  });
});

describe("start-up errors with the credentials in .env", () => {
  it("stops with one line when ./relay.yml is broken", async () => {
    const exit = await runUntilExit(
      workDir({ ".env": setupDotEnv(), "relay.yml": "version: 1\nupstreams: [pytorch/pytorch]\nnonsense: true\n" }),
    );
    expect(exit.code).toBe(1);
    expect(exit.stderr.trim().split("\n")).toHaveLength(1);
    expect(exit.stderr).toContain("relay.yml");
  });

  it("stops with one line naming APP_ID when it is not a number", async () => {
    const exit = await runUntilExit(workDir({ ".env": setupDotEnv({ APP_ID: "abc" }), "relay.yml": CONFIG }));
    expect({ code: exit.code, stderr: exit.stderr.trim() }).toEqual({
      code: 1,
      stderr: expect.stringMatching(/^APP_ID: [^\n]+$/),
    });
  });

  it("stops with one line naming PRIVATE_KEY when APP_ID has no key beside it", async () => {
    const dotEnv = setupDotEnv().replace(/^PRIVATE_KEY="[^"]*"\n/m, "");
    const exit = await runUntilExit(workDir({ ".env": dotEnv, "relay.yml": CONFIG }));
    expect({ code: exit.code, stderr: exit.stderr.trim() }).toEqual({
      code: 1,
      stderr: expect.stringMatching(/^PRIVATE_KEY: [^\n]+$/),
    });
  });

  it("stops with one line naming PRIVATE_KEY_PATH when its file is missing", async () => {
    const dotEnv = setupDotEnv().replace(/^PRIVATE_KEY="[^"]*"$/m, "PRIVATE_KEY_PATH=./missing-key.pem");
    const exit = await runUntilExit(workDir({ ".env": dotEnv, "relay.yml": CONFIG }));
    expect({ code: exit.code, stderr: exit.stderr.trim() }).toEqual({
      code: 1,
      stderr: expect.stringMatching(/^PRIVATE_KEY_PATH: [^\n]*missing-key\.pem[^\n]*$/),
    });
  });

  it("stops with one line naming RELAY_CONFIG when the file it names is missing", async () => {
    const exit = await runUntilExit(workDir({ ".env": setupDotEnv({ RELAY_CONFIG: "./nowhere.yml" }) }));
    expect({ code: exit.code, stderr: exit.stderr.trim() }).toEqual({
      code: 1,
      stderr: expect.stringMatching(/^RELAY_CONFIG: [^\n]*nowhere\.yml[^\n]*$/),
    });
  });

  it("takes a setting from the environment over .env", async () => {
    const exit = await runUntilExit(workDir({ ".env": setupDotEnv({ APP_ID: "abc" }), "relay.yml": "nonsense: [" }), {
      APP_ID: String(github.appId),
    });
    expect(exit.code).toBe(1);
    expect(exit.stderr).not.toContain("APP_ID");
    expect(exit.stderr).toContain("relay.yml");
  });
});

describe("npm start with no credentials anywhere", () => {
  it("opens Probot's setup flow, and only that: no relay routes", async () => {
    const cwd = workDir({ ".env": "APP_ID=\nPRIVATE_KEY=\nWEBHOOK_SECRET=\n", "relay.yml": CONFIG });
    const port = await freePort();
    const child = spawn(process.execPath, [MAIN], {
      cwd,
      // NO_SMEE_SETUP: Probot's setup would otherwise ask smee.io for a channel.
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? "",
        PORT: String(port),
        HOST: "127.0.0.1",
        NO_SMEE_SETUP: "true",
        LOG_FORMAT: "json",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    try {
      const deadline = Date.now() + 60_000;
      let setupPage: Response | null = null;
      while (setupPage === null && Date.now() < deadline && child.exitCode === null) {
        setupPage = await fetch(`http://127.0.0.1:${port}/probot`).catch(() => null);
        if (setupPage === null) await new Promise((done) => setTimeout(done, 200));
      }
      expect({ status: setupPage?.status, output: setupPage ? "" : output }).toEqual({ status: 200, output: "" });
      expect((await fetch(`http://127.0.0.1:${port}/relay/health`)).status).toBe(404);
    } finally {
      child.kill("SIGKILL");
    }
  });
});
