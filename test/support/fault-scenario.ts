import { createHash } from "node:crypto";
import { startHudSink, HUD_TOKEN } from "./callback-world";
import { startFakeGitHub, type InjectedFailure, type RecordedRequest } from "./fake-github";
import { startOidcIssuer } from "./oidc-issuer";
import { startOwnRedis } from "./own-redis";
import { residentMiB } from "./process-memory";
import { startRelayFleet } from "./relay-fleet";
import { formatTrafficReport, RelayTraffic, type TrafficReport } from "./relay-traffic";
import type { RelayServer } from "./server-harness";

/**
 * `npm run faults` and its short version in `npm test`: four relay processes on one Redis (the
 * suite's own redis-server, never the shared one) while a fake GitHub fails 30 % of writes
 * (5xx, 429 with and without retry-after, secondary limits), processes are killed -9 mid fan-out
 * and mid callback and restarted, Redis is restarted with and without its append-only file and
 * flushed, and the HUD is down for a while. Webhooks and callbacks flow throughout.
 *
 * What "lost" means: a dispatch of an accepted delivery, or a HUD row of an accepted callback,
 * that never arrived. Work still unsent when Redis is flushed or restarted without persistence is
 * gone with it: counted apart as "lost to erasure", not recoverable by design. So that a relay that
 * had stalled earlier cannot hide behind an erasure, the relays first get a grace period to deliver
 * what was accepted so far, and only work accepted during it is excused. Everything else, including
 * all work accepted after the last erasure, must arrive: lost = 0. A restart with the append-only
 * file, a kill -9, GitHub failures and a HUD outage excuse nothing.
 */

export interface FaultScenarioOptions {
  seed: number;
  instances: number;
  downstreams: number;
  /** kill -9 (and restart) this many times, at random points of fan-out and of callbacks */
  kills: number;
  deliveryIntervalMs: number;
  hudOutageMs: number;
  redisDownMs: number;
  /**
   * Before a flush or an empty restart, how long the relays get to deliver what was accepted so far;
   * only work accepted during this wait and still unsent when Redis is erased is excused.
   */
  graceMs: number;
  /** traffic between faults, and after the last one */
  quietMs: number;
  afterMs: number;
  /** also answer writes 429 / 403 without retry-after: GitHub then asks for a minute's wait */
  waitsWithoutRetryAfter: boolean;
  /** how long to wait for everything owed to arrive after the traffic stops */
  settleMs: number;
  log(line: string): void;
}

type Preset = Omit<FaultScenarioOptions, "seed" | "log">;

/**
 * `npm run faults`: 20 kills, every GitHub limit form, a 20 s HUD outage. Deliveries come slower
 * than GitHub's pacing of about one write a second per installation, so a healthy fleet keeps up.
 */
export const FULL_RUN: Preset = {
  instances: 4,
  downstreams: 3,
  kills: 20,
  deliveryIntervalMs: 2_500,
  hudOutageMs: 20_000,
  redisDownMs: 3_000,
  quietMs: 10_000,
  afterMs: 20_000,
  graceMs: 180_000,
  waitsWithoutRetryAfter: true,
  // Long enough for a 120 s outbox lease and GitHub's one-minute waits after limits without retry-after.
  settleMs: 300_000,
};

/**
 * The short version in `npm test` (and `npm run faults -- --short`): the same faults, fewer
 * deliveries and kills, and only GitHub limits that name a short retry-after (a limit without one
 * asks for a minute's wait, which the full run covers).
 */
export const SHORT_RUN: Preset = {
  instances: 4,
  downstreams: 2,
  kills: 3,
  deliveryIntervalMs: 2_000,
  hudOutageMs: 4_000,
  redisDownMs: 1_000,
  quietMs: 3_000,
  afterMs: 6_000,
  graceMs: 45_000,
  waitsWithoutRetryAfter: false,
  settleMs: 90_000,
};

export interface FaultScenarioResult {
  report: TrafficReport;
  settled: boolean;
  githubFailures: Record<string, number>;
  unexpectedExits: string[];
  lines: string[];
}

const UPSTREAM = "pytorch/pytorch";
const UPSTREAM_INSTALLATION = 11;
const RELAY_TOKEN_SECRET = "faults-suite-relay-token-secret-0123456789";

/** A small seeded PRNG (mulberry32), so a seed replays the same faults at the same points. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const SECONDARY = {
  message: "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
  documentation_url: "https://docs.github.com/rest",
};

/** How a failed write is answered; GitHub's own forms of each. */
function failureKinds(waitsWithoutRetryAfter: boolean): [string, InjectedFailure][] {
  const kinds: [string, InjectedFailure][] = [
    ["500", { status: 500 }],
    ["502", { status: 502 }],
    ["429 retry-after", { status: 429, headers: { "retry-after": "1" } }],
    ["403 secondary retry-after", { status: 403, headers: { "retry-after": "1" }, body: SECONDARY }],
  ];
  if (waitsWithoutRetryAfter)
    kinds.push(
      ["429 no retry-after", { status: 429 }],
      ["403 secondary no retry-after", { status: 403, body: SECONDARY }],
    );
  return kinds;
}

const MAX_FAILURES_IN_A_ROW = 2;
const isWrite = (request: RecordedRequest) => request.method !== "GET" && request.path.startsWith("/repos/");

export async function runFaultScenario(options: FaultScenarioOptions): Promise<FaultScenarioResult> {
  const random = seededRandom(options.seed);
  const between = (min: number, max: number) => min + random() * (max - min);
  const downstreams = Array.from({ length: options.downstreams }, (_, i) => `vendor${i}/backend`);
  const config = `
version: 1
upstreams: [${UPSTREAM}]
downstreams:
${downstreams.map((repo) => `  - { repo: ${repo}, level: L2 }`).join("\n")}
`;

  const redis = await startOwnRedis({ persistence: true });
  const github = await startFakeGitHub();
  github.addInstallation({ id: UPSTREAM_INSTALLATION, account: "pytorch", repos: [UPSTREAM] });
  downstreams.forEach((repo, i) => github.addInstallation({ id: 21 + i, account: repo.split("/")[0], repos: [repo] }));
  const githubFailures: Record<string, number> = {};
  const kinds = failureKinds(options.waitsWithoutRetryAfter);
  // Failures are transient, as GitHub's are: the same write (method, path, body) fails at most
  // MAX_FAILURES_IN_A_ROW times running, so retry backoff stays far inside the suite's bounds.
  const failuresInARow = new Map<string, number>();
  github.failWhere((request) => {
    if (!isWrite(request)) return null;
    const key = `${request.method} ${request.path} ${createHash("sha1").update(request.rawBody).digest("hex")}`;
    const running = failuresInARow.get(key) ?? 0;
    if (running >= MAX_FAILURES_IN_A_ROW || random() >= 0.3) {
      failuresInARow.delete(key);
      return null;
    }
    failuresInARow.set(key, running + 1);
    const [name, failure] = kinds[Math.floor(random() * kinds.length)];
    githubFailures[name] = (githubFailures[name] ?? 0) + 1;
    return failure;
  });
  const issuer = await startOidcIssuer();
  const hud = await startHudSink();
  const fleet = await startRelayFleet({
    size: options.instances,
    fakeGitHub: github,
    configYaml: config,
    env: {
      REDIS_URL: redis.url,
      RELAY_TOKEN_SECRET,
      OIDC_ISSUER: issuer.url,
      HUD_URL: hud.url,
      HUD_TOKEN,
      OUTBOX_DRAIN_INTERVAL_SECONDS: "1",
    },
  });
  const memory = (label: string) =>
    fleet.relays
      .map((relay, i) => `relay ${i} ${relay ? `${residentMiB(relay.pid) ?? "?"} MiB (pid ${relay.pid})` : "down"}`)
      .join(", ") + ` [${label}]`;
  const lines: string[] = [];
  const say = (line: string) => {
    lines.push(line);
    options.log(line);
  };
  say(
    `faults: seed ${options.seed}, ${options.instances} relays on their own redis-server :${redis.port}, ${downstreams.length} L2 downstreams`,
  );
  say(`rss start: ${memory("start")}`);

  const traffic = new RelayTraffic({
    github,
    issuer,
    hud,
    pick: () => fleet.pick(),
    upstream: UPSTREAM,
    upstreamInstallation: UPSTREAM_INSTALLATION,
    downstreams,
  });
  /** Records a fault, then injects it: an erasure spans both, as work accepted meanwhile may be gone. */
  const fault = async (
    kind: Parameters<RelayTraffic["recordFault"]>[0],
    inject: () => Promise<void> = async () => undefined,
  ) => {
    const done = traffic.recordFault(kind);
    const { dispatches, hudRows } = traffic.report();
    say(
      `${kind} (so far: ${dispatches.seen}/${dispatches.expected} dispatches, ${hudRows.seen}/${hudRows.expected} HUD rows)`,
    );
    await inject();
    done();
  };
  const graceBeforeErasure = async () => {
    const caughtUp = await traffic.beforeErasure(options.graceMs);
    if (!caughtUp)
      say(`work accepted before the grace of ${options.graceMs} ms still missing: it counts as lost, not erased`);
  };
  traffic.startCallbacks();
  let sending = true;
  const deliveriesDone = (async () => {
    while (sending) {
      void traffic.sendDelivery();
      await settle(options.deliveryIntervalMs);
    }
  })();

  try {
    const within = <T>(promise: Promise<T>, ms: number) => Promise.race([promise, settle(ms).then(() => null)]);
    // A kill whose point never came (no webhook or callback within 30 s) is tried again, a few times.
    for (let kills = 0, tries = 0; kills < options.kills && tries < options.kills * 3; tries++) {
      await settle(between(300, 1_500));
      const kind = random() < 0.5 ? "kill-fan-out" : "kill-callback";
      const victim: RelayServer | null = await within(
        traffic.nextSent(kind === "kill-fan-out" ? "webhook" : "callback"),
        30_000,
      );
      const index = victim === null ? -1 : fleet.relays.indexOf(victim);
      if (index === -1) continue;
      // Mid fan-out: the webhook was answered and its dispatches are under way; mid callback: in flight.
      await settle(kind === "kill-fan-out" ? between(0, 1_500) : between(0, 60));
      await fault(kind);
      kills++;
      await fleet.killAndRestart(index);
    }
    say(`kills done: ${memory("after kills")}`);

    // The outage starts as callbacks flow, so HUD records are due while it lasts.
    await within(traffic.nextSent("callback"), 30_000);
    await fault("hud-outage", async () => hud.setDown(true));
    await settle(options.hudOutageMs);
    hud.setDown(false);
    await settle(options.quietMs);

    await fault("redis-restart-persistent", () => redis.restart({ persistence: true, downMs: options.redisDownMs }));
    await settle(options.quietMs);

    await graceBeforeErasure();
    await fault("redis-flush", () => redis.flushAll());
    await settle(options.quietMs);

    await graceBeforeErasure();
    // Erased once the server is killed: it comes back empty, and nothing is written while it is down.
    await fault("redis-restart-empty", () => redis.down());
    await settle(options.redisDownMs);
    await redis.up({ persistence: false });
    say("Redis is back, empty: work accepted from here on must all arrive");
    await settle(options.afterMs);
  } finally {
    sending = false;
    await deliveriesDone;
  }

  say("traffic stopped; waiting for what is owed");
  await traffic.drained();
  const settled = await traffic.settled(options.settleMs);
  // Room for a wrong second dispatch or HUD row to show.
  await settle(3_000);
  traffic.stopCallbacks();
  const report = traffic.report();
  say(`rss end: ${memory("end")}`);
  for (const line of formatTrafficReport(report)) say(line);
  say(
    `GitHub writes failed: ${
      Object.entries(githubFailures)
        .map(([name, n]) => `${name} ${n}`)
        .join(", ") || "none"
    }; HUD refused ${hud.refused()} posts while down`,
  );
  say(`relay exits nobody asked for: ${fleet.unexpectedExits.length}`);
  for (const exit of fleet.unexpectedExits.slice(0, 3)) say(`  ${exit.replace(/\s+/g, " ").slice(0, 400)}`);
  if (!settled) say(`not settled within ${options.settleMs} ms: something owed never arrived`);

  await fleet.stop();
  await Promise.all([github.close(), issuer.close(), hud.close()]);
  await redis.stop();
  return { report, settled, githubFailures, unexpectedExits: [...fleet.unexpectedExits], lines };
}
