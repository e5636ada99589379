import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startFakeGitHub, type FakeGitHub } from "../support/fake-github";
import { cleanupRedisPrefix, startRelayServer, type RelayServer } from "../support/server-harness";
import { pullRequestEvent, sign } from "../support/webhooks";

const BIN = resolve(__dirname, "../../bin/ci-relay.js");
const UPSTREAM = "pytorch/pytorch";
const DOWNSTREAM = "vendor/backend";
const CONFIG = `
version: 1
upstreams: [${UPSTREAM}]
downstreams:
  - { repo: ${DOWNSTREAM}, level: L1 }
`;

/**
 * A local channel that speaks smee.io's protocol (server-sent events, one JSON message per delivery:
 * the headers, `body` as parsed JSON, `query`), so WEBHOOK_PROXY_URL is tested with the installed
 * smee-client and Probot's helper, without the network.
 */
interface Channel {
  url: string;
  connected: Promise<void>;
  forward(headers: Record<string, string>, body: unknown): void;
  close(): Promise<void>;
}

async function startChannel(): Promise<Channel> {
  let client: ServerResponse | null = null;
  let onConnect: () => void = () => undefined;
  const connected = new Promise<void>((done) => (onConnect = done));
  const server: Server = createServer((request, response) => {
    response.writeHead(200, {
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
      connection: "keep-alive",
    });
    response.write("event: ready\ndata: {}\n\n");
    client = response;
    request.once("close", () => (client = null));
    onConnect();
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/demo-channel`,
    connected,
    forward: (headers, body) => client?.write(`data: ${JSON.stringify({ ...headers, body, query: {} })}\n\n`),
    close: () =>
      new Promise((done) => {
        client?.end();
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

function runCli(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { PATH: process.env.PATH ?? "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.once("error", fail);
    child.once("close", (code) => done({ code, stdout, stderr }));
  });
}

/** JSON as GitHub writes a delivery's body: `<`, `>` and `&` escaped as \u003c, \u003e, \u0026. */
const asGitHubSendsIt = (payload: unknown) =>
  JSON.stringify(payload).replace(/</g, "\\u003c").replace(/>/g, "\\u003e").replace(/&/g, "\\u0026");

async function poll(what: string, condition: () => boolean, relay: RelayServer): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!condition()) {
    if (Date.now() > deadline)
      throw new Error(`${what} not seen within 30 s; relay output:\n${relay.logs().slice(-5000)}`);
    await new Promise((done) => setTimeout(done, 100));
  }
}

describe("local development: smee channel and replay against the real server", () => {
  let github: FakeGitHub;
  let channel: Channel;
  let relay: RelayServer;
  let dir: string;

  beforeAll(async () => {
    github = await startFakeGitHub();
    github.addInstallation({ id: 11, account: "pytorch", repos: [UPSTREAM] });
    github.addInstallation({ id: 12, account: "vendor", repos: [DOWNSTREAM] });
    channel = await startChannel();
    // HOST unset: smee-client forwards to http://localhost:<port>, which may resolve to ::1.
    relay = await startRelayServer({
      fakeGitHub: github,
      configYaml: CONFIG,
      env: { WEBHOOK_PROXY_URL: channel.url, HOST: undefined },
    });
    await channel.connected;
    dir = mkdtempSync(join(tmpdir(), "ci-relay-replay-"));
  }, 90_000);

  afterAll(async () => {
    await relay?.stop();
    await cleanupRedisPrefix(relay?.redisPrefix ?? "");
    await channel?.close();
    await github?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const prEvent = (number: number, title: string) =>
    pullRequestEvent("opened", { repo: UPSTREAM, installationId: 11, authorAssociation: "MEMBER", number, title });
  const headers = (body: string, delivery: string) => ({
    "x-github-event": "pull_request",
    "x-github-delivery": delivery,
    "x-hub-signature-256": sign(body, relay.webhookSecret),
    "content-type": "application/json",
  });
  const dispatchedFor = (number: number) =>
    github
      .dispatches(DOWNSTREAM)
      .some(
        (dispatch) =>
          (dispatch.clientPayload as { relay?: { upstream?: { pr_number?: number } } }).relay?.upstream?.pr_number ===
          number,
      );

  it("WEBHOOK_PROXY_URL: a delivery forwarded by the installed smee-client is relayed", async () => {
    const payload = prEvent(101, "plain title");
    channel.forward(headers(JSON.stringify(payload), "smee-plain-1"), payload);
    await poll("the dispatch of PR 101", () => dispatchedFor(101), relay);
  });

  it("smee's re-serialised body fails the signature of a delivery GitHub escaped; replay of the recorded bytes is relayed", async () => {
    const payload = prEvent(102, "Fix <T> & friends");
    const recorded = asGitHubSendsIt(payload);
    expect(recorded).not.toBe(JSON.stringify(payload));
    channel.forward(headers(recorded, "smee-escaped-1"), payload);
    // smee-client logs each forward's answer through the relay's logger.
    await relay.waitForLog((record) => /^POST \S+\/api\/github\/webhooks - 400$/.test(String(record.msg)), 30_000);

    const file = join(dir, "payload.json");
    writeFileSync(file, recorded);
    const replayed = await runCli(
      ["replay", "pull_request", file, "--url", relay.url("/api/github/webhooks"), "--delivery", "smee-escaped-1"],
      { WEBHOOK_SECRET: relay.webhookSecret },
    );
    expect(replayed.stderr).toBe("");
    expect(replayed.code).toBe(0);
    expect(JSON.parse(replayed.stdout)).toMatchObject({
      ok: true,
      status: 200,
      event: "pull_request",
      delivery: "smee-escaped-1",
      bytes: Buffer.byteLength(recorded),
    });
    await poll("the dispatch of PR 102", () => dispatchedFor(102), relay);
    // The smee copy never got past the signature check: exactly one dispatch, from the replay.
    expect(
      github
        .dispatches(DOWNSTREAM)
        .filter((dispatch) => (dispatch.clientPayload as { delivery_id?: string }).delivery_id === "smee-escaped-1"),
    ).toHaveLength(1);
  }, 60_000);

  it("replay with the wrong secret is refused by the relay: exit 1, the answer on stdout, one line on stderr", async () => {
    const file = join(dir, "wrong.json");
    writeFileSync(file, JSON.stringify(prEvent(103, "t")));
    const replayed = await runCli(["replay", "pull_request", file, "--url", relay.url("/api/github/webhooks")], {
      WEBHOOK_SECRET: "not-the-secret",
    });
    expect(replayed.code).toBe(1);
    expect(JSON.parse(replayed.stdout)).toMatchObject({ ok: false, status: 400 });
    expect(replayed.stderr).toBe("ci-relay: the relay answered 400\n");
  });

  it("replay without a secret names the variable, exit 2", async () => {
    const replayed = await runCli(["replay", "pull_request", join(dir, "wrong.json")], {});
    expect(replayed.code).toBe(2);
    expect(replayed.stdout).toBe("");
    expect(replayed.stderr).toBe("ci-relay: WEBHOOK_SECRET: required to sign (or --secret)\n");
  });
});
