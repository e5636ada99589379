import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import Redis from "ioredis";
import { startFakeGitHub, type FakeGitHub } from "../support/fake-github";
import { startOwnRedis, type OwnRedis } from "../support/own-redis";
import { startRelayServer, uniqueRedisPrefix, type RelayServer } from "../support/server-harness";
import { pullRequestEvent, randomSha, sendWebhook } from "../support/webhooks";
import { within } from "../support/within";

/**
 * Redis goes away and comes back (restarted without persistence, so empty) under a running queue
 * worker and a running relay server. Both ride it out: one line when it goes, one when it is back,
 * no stack traces, and work given after the restart is done.
 */

const CLI = resolve(__dirname, "../../lib/cli/main.js");
const WAIT_MS = 60_000;
const settle = (ms: number) => new Promise((done) => setTimeout(done, ms));

async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within ${WAIT_MS} ms: ${what}`);
    await settle(100);
  }
}

const lines = (output: string, pattern: RegExp) => output.split("\n").filter((line) => pattern.test(line));

/** Stands in for the relay's callback route: accepts every report and keeps it. */
async function startCallbackSink(): Promise<{ server: Server; url: string; reports: Record<string, unknown>[] }> {
  const reports: Record<string, unknown>[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
    req.on("end", () => {
      reports.push(JSON.parse(body) as Record<string, unknown>);
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ ok: true }));
    });
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/relay/v1/callback`, reports };
}

function jobRequest(requestId: string, runsOn: string, callbackUrl: string): Record<string, string> {
  return {
    schema_version: "jobrequest.v1",
    request_id: requestId,
    job_id: "__run__",
    delivery_id: `delivery-${requestId}`,
    source: "github",
    repo_url: "https://github.com/pytorch/pytorch",
    commit_sha: randomSha(),
    event: "pull_request",
    pr_number: "1",
    runs_on: runsOn,
    level: "L2",
    downstream: "farm/outage",
    callback_url: callbackUrl,
    callback_token: "not-checked-by-the-sink",
    submitted_at: new Date().toISOString(),
    repo_owner: "pytorch",
    repo_name: "pytorch",
    clone_url: "https://github.com/pytorch/pytorch.git",
    group_id: requestId,
  };
}

const completed = (reports: Record<string, unknown>[], requestId: string) =>
  reports.filter(
    (r) =>
      (r.workflow as { status?: string }).status === "completed" && String(r.delivery_id) === `delivery-${requestId}`,
  );

describe("Redis restarted under a queue worker", () => {
  let redisServer: OwnRedis;
  let sink: Awaited<ReturnType<typeof startCallbackSink>>;
  let dir: string;
  let admin: Redis;
  const workers: ChildProcess[] = [];

  beforeAll(async () => {
    redisServer = await startOwnRedis({ persistence: false });
    sink = await startCallbackSink();
    dir = mkdtempSync(join(tmpdir(), "ci-relay-outage-"));
  }, WAIT_MS);
  beforeEach(async () => {
    if (!admin) admin = new Redis(redisServer.url, { maxRetriesPerRequest: null });
  });
  afterAll(async () => {
    for (const worker of workers) worker.kill("SIGKILL");
    admin?.disconnect();
    await redisServer?.stop();
    sink?.server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function startWorker(
    prefix: string,
    runsOn: string,
    script: string,
    idleMs = 60_000,
  ): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
    const child = spawn(
      process.execPath,
      [CLI, "worker", "--exec", script, "--runs-on", runsOn, "--idle-ms", String(idleMs)],
      {
        env: { PATH: process.env.PATH, HOME: process.env.HOME, REDIS_URL: redisServer.url, REDIS_PREFIX: prefix },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    workers.push(child);
    let output = "";
    child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    // "exit", not "close": a job command's own children may hold the pipes a little longer.
    const exited = new Promise<number | null>((done) => child.once("exit", (code) => done(code)));
    return { child, output: () => output, exited };
  }

  function script(name: string, body: string): string {
    const path = join(dir, name);
    writeFileSync(path, `#!/bin/sh\n${body}\n`);
    chmodSync(path, 0o755);
    return path;
  }

  const groupExists = async (prefix: string, group: string) => {
    try {
      const groups = (await admin.xinfo("GROUPS", `${prefix}relay:jobs`)) as unknown[][];
      return groups.some((fields) => fields[1] === group);
    } catch {
      return false;
    }
  };

  it(
    "keeps running through the outage, says so once each way, and runs a job enqueued after the restart",
    async () => {
      const prefix = uniqueRedisPrefix();
      const worker = startWorker(prefix, "outage-runner", script("ok.sh", "exit 0"));
      await until(() => groupExists(prefix, "relay-workers:outage-runner"), "the worker created its group");

      await redisServer.down();
      await settle(4_000); // several reconnect attempts and loop rounds while Redis is away
      await redisServer.up({ persistence: false }); // empty: the stream and the group are gone
      await admin.xadd(
        `${prefix}relay:jobs`,
        "*",
        ...Object.entries(jobRequest("after-restart", "outage-runner", sink.url)).flat(),
      );

      await until(
        () => completed(sink.reports, "after-restart").length === 1,
        "the job enqueued after the restart was reported",
      );
      await until(
        async () => ((await admin.xpending(`${prefix}relay:jobs`, "relay-workers:outage-runner")) as [number])[0] === 0,
        "the entry was acknowledged",
      );
      expect(worker.child.exitCode).toBeNull();
      const output = worker.output();
      expect(lines(output, /Redis unreachable/)).toHaveLength(1);
      expect(lines(output, /Redis reachable again/)).toHaveLength(1);
      expect(output).not.toContain("Unhandled error event");
      expect(output).not.toMatch(/\n\s+at /); // no stack trace
    },
    3 * WAIT_MS,
  );

  it(
    "on SIGTERM while Redis is away: exits 0 rather than waiting for it",
    async () => {
      const prefix = uniqueRedisPrefix();
      const worker = startWorker(prefix, "idle-runner", script("idle.sh", "exit 0"));
      await until(() => groupExists(prefix, "relay-workers:idle-runner"), "the worker created its group");
      await redisServer.down();
      try {
        await until(() => /Redis unreachable/.test(worker.output()), "the worker noticed the outage");
        worker.child.kill("SIGTERM");
        expect(await within(worker.exited, WAIT_MS, "the worker exited after SIGTERM")).toBe(0);
      } finally {
        await redisServer.up({ persistence: false });
      }
    },
    3 * WAIT_MS,
  );

  it(
    "on SIGTERM mid-job: terminates the job, exits 0, and leaves the entry to another worker at once",
    async () => {
      const prefix = uniqueRedisPrefix();
      const started = join(dir, "long-started");
      const job = script("long.sh", `if [ ! -f "${started}" ]; then touch "${started}"; exec sleep 600; fi`);
      const first = startWorker(prefix, "long-runner", job);
      await until(() => groupExists(prefix, "relay-workers:long-runner"), "the worker created its group");
      await admin.xadd(
        `${prefix}relay:jobs`,
        "*",
        ...Object.entries(jobRequest("interrupted", "long-runner", sink.url)).flat(),
      );
      await until(() => existsSync(started), "the job started");

      first.child.kill("SIGTERM");
      expect(await within(first.exited, WAIT_MS, "the worker exited after SIGTERM")).toBe(0);
      expect(completed(sink.reports, "interrupted")).toHaveLength(0);
      expect(((await admin.xpending(`${prefix}relay:jobs`, "relay-workers:long-runner")) as [number])[0]).toBe(1);

      // Its idle time is not waited out (an hour here): handed back, it is taken at once.
      startWorker(prefix, "long-runner", job, 3_600_000);
      await until(() => completed(sink.reports, "interrupted").length === 1, "another worker finished the job");
    },
    3 * WAIT_MS,
  );
});

describe("Redis restarted under a relay server", () => {
  let redisServer: OwnRedis;
  let github: FakeGitHub;
  let relay: RelayServer;

  beforeAll(async () => {
    redisServer = await startOwnRedis({ persistence: false });
    github = await startFakeGitHub();
    github.addInstallation({ id: 11, account: "pytorch", repos: ["pytorch/pytorch"] });
    github.addInstallation({ id: 21, account: "vendor", repos: ["vendor/backend"] });
    relay = await startRelayServer({
      fakeGitHub: github,
      configYaml: "version: 1\nupstreams: [pytorch/pytorch]\ndownstreams:\n  - { repo: vendor/backend, level: L1 }\n",
      logLevel: "info",
      env: { REDIS_URL: redisServer.url, OUTBOX_DRAIN_INTERVAL_SECONDS: "1" },
      readyTimeoutMs: WAIT_MS,
    });
  }, 2 * WAIT_MS);
  afterAll(async () => {
    await relay?.kill();
    await github?.close();
    await redisServer?.stop();
  });

  it(
    "logs the outage once each way, no stack traces, and relays again once Redis is back",
    async () => {
      await redisServer.down();
      await settle(6_000); // several outbox drains, timeout sweeps and reconnect attempts while Redis is away
      await redisServer.up({ persistence: false });
      await relay.waitForLog((r) => r.msg === "Redis reachable again", WAIT_MS);

      const payload = pullRequestEvent("opened", {
        repo: "pytorch/pytorch",
        installationId: 11,
        authorAssociation: "MEMBER",
        number: 2,
        headSha: randomSha(),
      });
      expect((await sendWebhook(relay.baseUrl, { event: "pull_request", payload, deliveryId: "after" })).status).toBe(
        200,
      );
      await github.waitFor((r) => r.path === "/repos/vendor/backend/dispatches" && r.status === 204, WAIT_MS);

      const records = relay.logRecords();
      expect(records.filter((r) => /Redis unreachable/.test(String(r.msg)))).toHaveLength(1);
      expect(records.filter((r) => r.msg === "Redis reachable again")).toHaveLength(1);
      expect(relay.logs()).not.toContain("Unhandled error event");
      // No stack traces at all: Probot's Bottleneck clients (which logged every reconnect) are gone.
      expect(
        records.filter((r) => (r.err as { stack?: string } | undefined)?.stack !== undefined).map((r) => r.msg),
      ).toEqual([]);
    },
    3 * WAIT_MS,
  );
});
