import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import Redis from "ioredis";
import { listDispatchIds, readEachDispatch } from "../../src/records/dispatches";
import { readJobsOf, type JobRecord } from "../../src/records/jobs";
import { RedisStore } from "../../src/store/redis-store";
import { startFakeGitHub, type FakeGitHub } from "../support/fake-github";
import { testRedisUrl } from "../support/redis-prefix";
import { cleanupRedisPrefix, startRelayServer, type RelayServer } from "../support/server-harness";
import { pullRequestEvent, randomSha, sendWebhook } from "../support/webhooks";

/**
 * The queue transport end to end: the built relay (real server, signed webhooks, fake GitHub, Redis)
 * appends job requests; the built `ci-relay worker` runs shell scripts for them, calls back, and the
 * relay's state and check runs follow. Each test has its own relay and Redis prefix, so its stream
 * holds only its own entries.
 */

const RELAY_TOKEN_SECRET = "queue-e2e-relay-token-secret-0123456789abcdef";
const UPSTREAM_INSTALLATION = 11;
const CLI = resolve(__dirname, "../../lib/cli/main.js");
const WAIT_MS = 20_000;

const configWith = (downstreams: string) => `
version: 1
upstreams: [pytorch/pytorch]
downstreams:
${downstreams}
`;

interface Worker {
  output(): string;
  /** SIGKILL to the worker and the job it runs: the machine went away */
  kill(): Promise<void>;
}

describe("queue transport end to end (relay, worker CLI, Redis)", () => {
  let github: FakeGitHub;
  let dir: string;
  const relays: RelayServer[] = [];
  const workers: ChildProcess[] = [];
  const redis = new Redis(testRedisUrl());

  beforeAll(async () => {
    github = await startFakeGitHub();
    github.addInstallation({ id: UPSTREAM_INSTALLATION, account: "pytorch", repos: ["pytorch/pytorch"] });
    dir = mkdtempSync(join(tmpdir(), "ci-relay-queue-e2e-"));
  });

  afterEach(async () => {
    for (const worker of workers.splice(0)) killGroup(worker);
    for (const relay of relays.splice(0)) {
      await relay.stop();
      await cleanupRedisPrefix(relay.redisPrefix);
    }
  });

  afterAll(async () => {
    redis.disconnect();
    await github?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function startRelay(downstreams: string): Promise<RelayServer> {
    const relay = await startRelayServer({
      fakeGitHub: github,
      configYaml: configWith(downstreams),
      env: { RELAY_TOKEN_SECRET },
      logLevel: "info",
    });
    relays.push(relay);
    return relay;
  }

  function script(name: string, body: string): string {
    const path = join(dir, name);
    writeFileSync(path, `#!/bin/sh\n${body}\n`);
    chmodSync(path, 0o755);
    return path;
  }

  function startWorker(relay: RelayServer, args: string[], env: Record<string, string> = {}): Worker {
    const child = spawn(process.execPath, [CLI, "worker", ...args], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        REDIS_URL: testRedisUrl(),
        REDIS_PREFIX: relay.redisPrefix,
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
      // Its own process group, so a kill takes the running job with it.
      detached: true,
    });
    workers.push(child);
    let output = "";
    child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    const exited = new Promise<void>((done) => child.once("close", () => done()));
    return {
      output: () => output,
      kill: async () => {
        killGroup(child);
        await exited;
      },
    };
  }

  async function cli(relay: RelayServer, args: string[]): Promise<{ code: number | null; stdout: string }> {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { PATH: process.env.PATH, REDIS_URL: testRedisUrl(), REDIS_PREFIX: relay.redisPrefix },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let stdout = "";
    child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
    const code = await new Promise<number | null>((done) => child.once("close", done));
    return { code, stdout };
  }

  async function openPullRequest(
    relay: RelayServer,
    deliveryId: string,
    number: number,
    headRepo?: string,
  ): Promise<void> {
    const payload = pullRequestEvent("opened", {
      repo: "pytorch/pytorch",
      installationId: UPSTREAM_INSTALLATION,
      authorAssociation: "MEMBER",
      number,
      headSha: randomSha(),
      headRepo,
    });
    const answer = await sendWebhook(relay.baseUrl, { event: "pull_request", payload, deliveryId });
    expect(answer.status).toBe(200);
  }

  const stream = (relay: RelayServer, key: string) => `${relay.redisPrefix}${key}`;

  async function entries(
    relay: RelayServer,
    key = "relay:jobs",
  ): Promise<{ id: string; fields: Record<string, string> }[]> {
    const raw = await redis.xrange(stream(relay, key), "-", "+");
    return raw.map(([id, flat]) => ({
      id,
      fields: Object.fromEntries(flat.flatMap((v, i) => (i % 2 === 0 ? [[v, flat[i + 1]]] : []))),
    }));
  }

  /** Reads the relay's records through the store it uses (its prefix). */
  async function withRelayStore<T>(relay: RelayServer, read: (store: RedisStore) => Promise<T>): Promise<T> {
    const store = new RedisStore(testRedisUrl(), relay.redisPrefix);
    try {
      return await read(store);
    } finally {
      await store.close();
    }
  }

  /** Oldest first. */
  async function jobRecords(relay: RelayServer, requestId: string): Promise<JobRecord[]> {
    return withRelayStore(relay, async (store) => (await readJobsOf(store, requestId, 100)).reverse());
  }

  it("enqueues one jobrequest.v1 entry per job, once however often the webhook is redelivered", async () => {
    const relay = await startRelay(`
  - { repo: farm/gate, level: L4, transport: queue, runs_on: gate-runner }
  - { repo: farm/multi, level: L2, transport: queue, jobs: [{ id: build, runs_on: x86 }, { id: test }] }`);
    await openPullRequest(relay, "queue-delivery-1", 11, "contributor/pytorch");
    await openPullRequest(relay, "queue-delivery-1", 11, "contributor/pytorch");
    await until(async () => (await entries(relay)).length === 3);
    await openPullRequest(relay, "queue-delivery-1", 11, "contributor/pytorch");
    // Both dispatches are marked sent only after their entries are in: nothing more can come.
    await until(async () => (await relayRuns(relay)).every((state) => state === "dispatched"));

    const all = await entries(relay);
    expect(all.map((e) => [e.fields.downstream, e.fields.job_id, e.fields.runs_on]).sort()).toEqual([
      ["farm/gate", "__run__", "gate-runner"],
      ["farm/multi", "build", "x86"],
      ["farm/multi", "test", "self-hosted"],
    ]);
    const [gate] = all.filter((e) => e.fields.downstream === "farm/gate");
    expect(Object.keys(gate.fields).sort()).toEqual([
      "callback_token",
      "callback_url",
      "clone_url",
      "commit_sha",
      "delivery_id",
      "downstream",
      "event",
      "group_id",
      "job_id",
      "level",
      "pr_number",
      "repo_name",
      "repo_owner",
      "repo_url",
      "request_id",
      "runs_on",
      "schema_version",
      "source",
      "submitted_at",
    ]);
    // A fork PR's commit is fetched from the fork; the repository it is tested for stays the upstream.
    expect(gate.fields).toMatchObject({
      repo_owner: "pytorch",
      repo_name: "pytorch",
      clone_url: "https://github.com/contributor/pytorch.git",
      group_id: gate.fields.request_id,
    });
    const multi = all.filter((e) => e.fields.downstream === "farm/multi");
    expect(new Set(multi.map((e) => e.fields.group_id))).toEqual(new Set([multi[0].fields.request_id]));
    expect(gate.fields).toMatchObject({
      schema_version: "jobrequest.v1",
      source: "github",
      event: "pull_request",
      pr_number: "11",
      level: "L4",
      delivery_id: "queue-delivery-1",
      callback_url: `${relay.baseUrl}/relay/v1/callback`,
    });
    expect(relay.logs()).not.toContain(gate.fields.callback_token);
  });

  it("a worker runs the job, reports it, and the L4 check run concludes with the link the worker gave", async () => {
    const relay = await startRelay(`  - { repo: farm/gate, level: L4, transport: queue, runs_on: gate-runner }`);
    const seen = join(dir, "seen-env.txt");
    const job = script(
      "ok.sh",
      `env | grep '^JOB_' > "${seen}"
echo "{\\"url\\": \\"https://ci.example/jobs/$JOB_REQUEST_ID/done\\", \\"summary\\": \\"built $JOB_COMMIT_SHA\\"}" > "$JOB_RESULT_FILE"`,
    );
    startWorker(relay, [
      "--exec",
      job,
      "--runs-on",
      "gate-runner",
      "--details-url",
      "https://ci.example/jobs/{request_id}",
    ]);
    await openPullRequest(relay, "queue-delivery-2", 12);

    const entry = await untilValue(async () => (await entries(relay))[0]);
    const requestId = entry.fields.request_id;
    const record = await untilValue(async () =>
      (await jobRecords(relay, requestId)).find((r) => r.state === "COMPLETED"),
    );
    expect(record).toMatchObject({
      scope: "run",
      conclusion: "success",
      detailsUrl: `https://ci.example/jobs/${requestId}/done`,
      runAttempt: "1",
    });
    // Acknowledged once the relay answered the report (just after the state above was written).
    await until(
      async () =>
        ((await redis.xpending(stream(relay, "relay:jobs"), "relay-workers:gate-runner")) as [number])[0] === 0,
    );

    const check = await untilValue(async () =>
      github.checkRuns("pytorch/pytorch").find((c) => c.name === "relay/farm/gate" && c.status === "completed"),
    );
    expect(check).toMatchObject({
      conclusion: "success",
      detailsUrl: `https://ci.example/jobs/${requestId}/done`,
      headSha: entry.fields.commit_sha,
    });
    const env = readFileSync(seen, "utf8");
    expect(env).toContain(`JOB_REQUEST_ID=${requestId}`);
    expect(env).not.toContain(entry.fields.callback_token);
  });

  it("a worker killed mid-job: another reclaims the entry once idle and finishes it", async () => {
    const relay = await startRelay(`  - { repo: farm/slow, level: L2, transport: queue, runs_on: slow-runner }`);
    const started = join(dir, "slow-started");
    const job = script("slow.sh", `if [ ! -f "${started}" ]; then touch "${started}"; sleep 60; fi`);
    const first = startWorker(relay, ["--exec", job, "--runs-on", "slow-runner", "--idle-ms", "1500"]);
    await openPullRequest(relay, "queue-delivery-3", 13);
    await until(async () => existsSync(started));
    await first.kill();

    startWorker(relay, ["--exec", job, "--runs-on", "slow-runner", "--idle-ms", "1500"]);
    const entry = await untilValue(async () => (await entries(relay))[0]);
    const done = await untilValue(async () =>
      (await jobRecords(relay, entry.fields.request_id)).find((r) => r.state === "COMPLETED"),
    );
    expect(done).toMatchObject({ conclusion: "success", runAttempt: "2" });
    // Acknowledged once the relay answered the report (just after the state above was written).
    await until(
      async () =>
        ((await redis.xpending(stream(relay, "relay:jobs"), "relay-workers:slow-runner")) as [number])[0] === 0,
    );
    expect(await entries(relay, "relay:jobs:dlq")).toHaveLength(0);
  });

  it("a job that always crashes lands in the dead letters after max_deliveries, and a requeue runs it again", async () => {
    const relay = await startRelay(
      `  - { repo: farm/crashy, level: L2, transport: queue, runs_on: crash-runner, max_deliveries: 2 }`,
    );
    const runs = join(dir, "crash-runs");
    const healed = join(dir, "healed");
    const job = script("crash.sh", `echo run >> "${runs}"\nif [ -f "${healed}" ]; then exit 0; fi\nkill -KILL $$`);
    startWorker(relay, ["--exec", job, "--runs-on", "crash-runner", "--idle-ms", "300"]);
    await openPullRequest(relay, "queue-delivery-4", 14);

    const [dead] = await untilValue(async () =>
      entries(relay, "relay:jobs:dlq").then((list) => (list.length > 0 ? list : undefined)),
    );
    expect(dead.fields).toMatchObject({
      dead_reason: "max-deliveries-exceeded",
      dead_deliveries: "3",
      downstream: "farm/crashy",
    });
    expect(readFileSync(runs, "utf8").trim().split("\n")).toHaveLength(2);
    const listed = await cli(relay, ["dlq", "list"]);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout.trim())).toMatchObject({ id: dead.id, dead_reason: "max-deliveries-exceeded" });
    expect(listed.stdout).not.toContain(dead.fields.callback_token);

    writeFileSync(healed, "");
    const requeued = await cli(relay, ["dlq", "requeue", dead.id]);
    expect(requeued.code).toBe(0);
    const done = await untilValue(async () =>
      (await jobRecords(relay, dead.fields.request_id)).find((r) => r.state === "COMPLETED"),
    );
    expect(done.conclusion).toBe("success");
    expect(await entries(relay, "relay:jobs:dlq")).toHaveLength(0);
    expect(readFileSync(runs, "utf8").trim().split("\n")).toHaveLength(3);
  });

  it("refuses to start with queue downstreams and no Redis, naming REDIS_URL", async () => {
    await expect(
      startRelayServer({
        fakeGitHub: github,
        configYaml: configWith(`  - { repo: farm/gate, level: L4, transport: queue }`),
        env: { RELAY_TOKEN_SECRET, REDIS_URL: undefined },
      }),
    ).rejects.toThrow("REDIS_URL: required because downstream farm/gate uses transport: queue");
  });

  async function relayRuns(relay: RelayServer): Promise<string[]> {
    return withRelayStore(relay, async (store) => {
      const ids = (await listDispatchIds(store, { all: true }, 1000)).reverse();
      return (await readEachDispatch(store, ids)).map((record) => record?.state ?? "missing");
    });
  }
});

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, "SIGKILL");
  } catch {
    // already gone
  }
}

async function until(check: () => Promise<boolean>): Promise<void> {
  await untilValue(async () => ((await check()) ? true : undefined));
}

/** Polls until `read` gives a value; the suite's only wait, bounded so a broken relay fails the test. */
async function untilValue<T>(read: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((done) => setTimeout(done, 100));
  }
}
