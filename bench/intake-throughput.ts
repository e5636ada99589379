import { join } from "node:path";
import { startFakeGitHub } from "../test/support/fake-github";
import { startOwnRedis } from "../test/support/own-redis";
import { startRelayServer } from "../test/support/server-harness";
import { cpuMs, rssMb } from "./proc-stats";
import { load, type LoadRequest } from "./load";
import { percentile } from "./report";
import { startReferenceServer } from "./reference-server";
import { deliveryHeaders, signedDeliveries, type SignedDelivery } from "./signed-deliveries";

const UPSTREAM = "pytorch/pytorch";
const DOWNSTREAMS = ["a/one", "b/two", "c/three", "d/four"];
const CONFIG = `
version: 1
upstreams: [${UPSTREAM}]
downstreams:
${DOWNSTREAMS.map((repo) => `  - { repo: ${repo}, level: L2 }`).join("\n")}
`;
const WEBHOOK_PATH = "/api/github/webhooks";
const ANSWER_SAMPLES = 300;
/** How long the relay may take to stop after SIGTERM (with its outbox tasks in flight) before it is killed. */
const STOP_GRACE_MS = 10_000;
/** Time given to a profiled relay to write its profile. */
const PROFILE_WRITE_MS = 3_000;

export interface IntakeFigures {
  /** median answer, one delivery at a time */
  answerP50Ms: number;
  /** deliveries per second at 10 concurrent connections */
  perSecond: number;
  cpuMsPerDelivery: number;
  rssMb: number;
  /** answers other than 2xx, and connection errors/timeouts: all should be 0 */
  failures: number;
}

export type IntakeTarget = "ceiling" | "probot" | "relay";

interface Served {
  pid: number;
  baseUrl: string;
  stop(): Promise<void>;
}

/** The relay as deployed (lib/main.js), 4 downstreams, on a Redis of its own that the run throws away. */
async function startRelay(profileDir: string | undefined): Promise<Served> {
  const [github, redis] = await Promise.all([startFakeGitHub(), startOwnRedis({ persistence: false })]);
  github.addInstallation({ id: 1, account: "pytorch", repos: [UPSTREAM] });
  DOWNSTREAMS.forEach((repo, i) => github.addInstallation({ id: 10 + i, account: repo.split("/")[0], repos: [repo] }));
  const relay = await startRelayServer({
    fakeGitHub: github,
    configYaml: CONFIG,
    logLevel: "warn",
    env: {
      REDIS_URL: redis.url,
      NODE_ENV: "production",
      RELAY_TOKEN_SECRET: "bench-secret-bench-secret-bench-secret-0123",
      ...(profileDir === undefined ? {} : { BENCH_PROFILE_DIR: profileDir }),
    },
    nodeArgs: profileDir === undefined ? [] : ["--require", join(__dirname, "profile-on-signal.js")],
  });
  return {
    pid: relay.pid,
    baseUrl: relay.baseUrl,
    stop: async () => {
      process.kill(relay.pid, "SIGTERM");
      const killer = setTimeout(() => void relay.kill(), STOP_GRACE_MS);
      await relay.exited;
      clearTimeout(killer);
      await Promise.all([github.close(), redis.stop()]);
    },
  };
}

const start = (target: IntakeTarget, profileDir?: string): Promise<Served> =>
  target === "relay"
    ? startRelay(profileDir)
    : startReferenceServer(target === "ceiling" ? "ceiling-server" : "noop-probot-server");

/** Median time to a webhook's answer, one delivery at a time over keep-alive (sub-millisecond resolution). */
async function sequentialAnswerP50(baseUrl: string, next: () => LoadRequest): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < ANSWER_SAMPLES; i++) {
    const { path, headers, body } = next();
    const started = performance.now();
    const response = await fetch(new URL(path, baseUrl), { method: "POST", headers, body });
    await response.arrayBuffer();
    samples.push(performance.now() - started);
    if (!response.ok) throw new Error(`webhook answered ${response.status}`);
  }
  return percentile(samples, 50);
}

/**
 * Intake of one target, all from the same ~20 KB signed PR deliveries (a new delivery id each):
 * the answer's median one at a time, then deliveries/s at c10 for `seconds`, with the server's CPU
 * time per delivery (from /proc) and its RSS right after the load. With `profileDir`, the relay's CPU
 * profile of the sustained load is written there (bench/profile-on-signal.ts).
 */
export async function measureIntake(
  target: IntakeTarget,
  seconds: number,
  options: { profileDir?: string } = {},
): Promise<IntakeFigures> {
  const deliveries: SignedDelivery[] = signedDeliveries(2_000, [UPSTREAM], 1);
  let sent = 0;
  const next = () => {
    const delivery = deliveries[sent++ % deliveries.length];
    return { path: WEBHOOK_PATH, headers: deliveryHeaders(delivery), body: delivery.body };
  };
  const server = await start(target, options.profileDir);
  try {
    // Warm-up: JIT, connections, the relay's installation and config caches.
    await load(server.baseUrl, next, { connections: 10, amount: 500 });
    const answerP50Ms = await sequentialAnswerP50(server.baseUrl, next);
    const profiling = options.profileDir !== undefined;
    if (profiling) process.kill(server.pid, "SIGUSR2");
    const cpuBefore = cpuMs(server.pid);
    const sustained = await load(server.baseUrl, next, { connections: 10, seconds });
    const cpu = cpuMs(server.pid) - cpuBefore;
    if (profiling) {
      process.kill(server.pid, "SIGUSR2");
      await new Promise((done) => setTimeout(done, PROFILE_WRITE_MS));
    }
    return {
      answerP50Ms,
      perSecond: sustained.perSecond,
      cpuMsPerDelivery: cpu / Math.max(1, sustained.requests),
      rssMb: rssMb(server.pid),
      failures: sustained.non2xx + sustained.errors,
    };
  } finally {
    await server.stop();
  }
}
