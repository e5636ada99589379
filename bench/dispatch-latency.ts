import { startFakeGitHub } from "../test/support/fake-github";
import { cleanupRedisPrefix, startRelayServer } from "../test/support/server-harness";
import { pullRequestEvent, randomSha, sendWebhook } from "../test/support/webhooks";
import { percentile, type BenchResult } from "./report";

const WRITE_SPACING_MS = 1_050;
const DOWNSTREAMS = ["a/one", "b/two", "c/three", "d/four"];
const CONFIG = `
version: 1
upstreams: [pytorch/pytorch]
downstreams:
${DOWNSTREAMS.map((repo) => `  - { repo: ${repo}, level: L2 }`).join("\n")}
`;

/**
 * Webhook receipt to the last of 4 dispatches acknowledged by the (local, fake) GitHub, with the real
 * server process and Redis; and GitHub requests per dispatch once caches are warm. Rounds are spaced
 * by GitHub's write pacing; back-to-back rounds would each wait ~1 s in the throttle by design.
 */
export async function benchDispatchLatency(rounds = 100): Promise<{ result: BenchResult; callsPerDispatch: string }> {
  const github = await startFakeGitHub();
  github.addInstallation({ id: 1, account: "pytorch", repos: ["pytorch/pytorch"] });
  DOWNSTREAMS.forEach((repo, i) => github.addInstallation({ id: 10 + i, account: repo.split("/")[0], repos: [repo] }));
  const relay = await startRelayServer({
    fakeGitHub: github,
    configYaml: CONFIG,
    logLevel: "warn",
    env: { RELAY_TOKEN_SECRET: "bench-secret-bench-secret-bench-secret-0123" },
  });
  try {
    const once = async (n: number) => {
      const deliveryId = `bench-${n}`;
      const acked = github.waitForCount(
        (r) =>
          r.path.endsWith("/dispatches") &&
          r.status === 204 &&
          (r.body as { client_payload?: { delivery_id?: string } })?.client_payload?.delivery_id === deliveryId,
        DOWNSTREAMS.length,
        30_000,
      );
      const started = performance.now();
      const answer = await sendWebhook(relay.baseUrl, {
        event: "pull_request",
        deliveryId,
        payload: pullRequestEvent("synchronize", {
          repo: "pytorch/pytorch",
          installationId: 1,
          number: n,
          headSha: randomSha(),
          authorAssociation: "MEMBER",
        }),
      });
      const answered = performance.now() - started;
      if (answer.status !== 200) throw new Error(`webhook answered ${answer.status}: ${answer.text}`);
      await acked;
      return { answered, dispatched: performance.now() - started };
    };
    for (let i = 0; i < 5; i++) await once(-1 - i); // warm caches: installation ids, tokens, JIT
    const before = github.requests.length;
    const samples = [];
    for (let i = 0; i < rounds; i++) {
      // Octokit's throttle spaces content-creating requests 1 s apart per installation, as GitHub
      // asks; spacing rounds the same way measures the relay, not that deliberate wait.
      await new Promise((resolve) => setTimeout(resolve, WRITE_SPACING_MS));
      samples.push(await once(i));
    }
    const steadyCalls = github.requests.length - before;
    const answered = samples.map((s) => s.answered);
    const dispatched = samples.map((s) => s.dispatched);
    const callsPerDispatch = (steadyCalls / (rounds * DOWNSTREAMS.length)).toFixed(2);
    const result = {
      name: "webhook to 4 dispatches acknowledged (real server, Redis, local fake GitHub)",
      rows: [
        ["rounds", String(rounds)],
        ["webhook answered, median ms", percentile(answered, 50).toFixed(1)],
        ["last of 4 dispatches acknowledged, median ms", percentile(dispatched, 50).toFixed(1)],
        ["last of 4 dispatches acknowledged, p95 ms", percentile(dispatched, 95).toFixed(1)],
        ["GitHub API calls per dispatch (steady state)", callsPerDispatch],
      ] as [string, string][],
    };
    return { result, callsPerDispatch };
  } finally {
    await relay.stop();
    await cleanupRedisPrefix(relay.redisPrefix);
    await github.close();
  }
}
