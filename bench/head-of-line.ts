import { startFakeGitHub } from "../test/support/fake-github";
import { cleanupRedisPrefix, startRelayServer } from "../test/support/server-harness";
import { pullRequestEvent, pushEvent, randomSha, sendWebhook } from "../test/support/webhooks";
import { percentile } from "./report";

const UPSTREAM = "pytorch/pytorch";
const BUSY = "busy/one";
const QUIET = "quiet/two";
// Pushes go to the busy installation only, pull requests to the quiet one only.
const CONFIG = `
version: 1
upstreams: [${UPSTREAM}]
push: { branches: [main] }
downstreams:
  - { repo: ${BUSY}, level: L2, events: [push] }
  - { repo: ${QUIET}, level: L2, events: [pull_request] }
`;
/** The quiet installation's own writes are paced too: probes this far apart measure the lanes, not that pacing. */
const PROBE_SPACING_MS = 1_050;
const SEND_CONCURRENCY = 20;

export interface HeadOfLineFigures {
  backlog: number;
  probes: number;
  /** webhook answered to the quiet installation's dispatch acknowledged, ms */
  p50Ms: number;
  p95Ms: number;
  /** outbox depth when the last probe was dispatched: the busy installation was still behind */
  backlogAtEnd: number;
}

const outboxDepth = async (baseUrl: string) =>
  ((await (await fetch(`${baseUrl}/relay/health`)).json()) as { outbox: { depth: number } }).outbox.depth;

/**
 * One installation `backlog` dispatches behind (pushes relayed to it, at GitHub's one write a second),
 * then `probes` pull requests relayed to another installation: how long after its webhook answer
 * each probe's dispatch reaches the (local, fake) GitHub. The real server process and Redis.
 */
export async function measureHeadOfLine(backlog = 1_000, probes = 20): Promise<HeadOfLineFigures> {
  const github = await startFakeGitHub();
  github.addInstallation({ id: 1, account: "pytorch", repos: [UPSTREAM] });
  github.addInstallation({ id: 10, account: "busy", repos: [BUSY] });
  github.addInstallation({ id: 11, account: "quiet", repos: [QUIET] });
  const relay = await startRelayServer({
    fakeGitHub: github,
    configYaml: CONFIG,
    logLevel: "warn",
    env: { RELAY_TOKEN_SECRET: "bench-secret-bench-secret-bench-secret-0123" },
  });
  try {
    let next = 0;
    const sendPushes = async () => {
      while (next < backlog) {
        next += 1;
        const answer = await sendWebhook(relay.baseUrl, {
          event: "push",
          payload: pushEvent({ repo: UPSTREAM, installationId: 1, after: randomSha() }),
        });
        if (answer.status !== 200) throw new Error(`push answered ${answer.status}: ${answer.text}`);
      }
    };
    await Promise.all(Array.from({ length: SEND_CONCURRENCY }, sendPushes));

    const samples: number[] = [];
    for (let i = 0; i < probes; i++) {
      await new Promise((resolve) => setTimeout(resolve, PROBE_SPACING_MS));
      const deliveryId = `probe-${i}`;
      const acked = github.waitFor(
        (r) =>
          r.path === `/repos/${QUIET}/dispatches` &&
          r.status === 204 &&
          (r.body as { client_payload?: { delivery_id?: string } })?.client_payload?.delivery_id === deliveryId,
        30_000,
      );
      const answer = await sendWebhook(relay.baseUrl, {
        event: "pull_request",
        deliveryId,
        payload: pullRequestEvent("synchronize", {
          repo: UPSTREAM,
          installationId: 1,
          number: 1 + i,
          headSha: randomSha(),
          authorAssociation: "MEMBER",
        }),
      });
      if (answer.status !== 200) throw new Error(`probe answered ${answer.status}: ${answer.text}`);
      const answeredAt = performance.now();
      await acked;
      samples.push(performance.now() - answeredAt);
    }
    return {
      backlog,
      probes,
      p50Ms: percentile(samples, 50),
      p95Ms: percentile(samples, 95),
      backlogAtEnd: await outboxDepth(relay.baseUrl),
    };
  } finally {
    await relay.stop();
    await cleanupRedisPrefix(relay.redisPrefix);
    await github.close();
  }
}
