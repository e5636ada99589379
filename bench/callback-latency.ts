import { dispatchPr, startCallbackWorld, workflowReport } from "../test/support/callback-world";
import { percentile, type BenchResult } from "./report";

const CONFIG = `
version: 1
upstreams: [pytorch/pytorch]
downstreams:
  - { repo: vendor/backend, level: L2 }
`;

/**
 * Callback handling as a downstream job sees it: POST to answer, over keep-alive HTTP, with OIDC and
 * relay-token verification, the atomic state write to Redis and its HUD outbox task. Every callback
 * is a real transition (a new job's in_progress); OIDC tokens are minted before timing starts.
 */
export async function benchCallbackLatency(count = 1000): Promise<BenchResult> {
  const world = await startCallbackWorld(CONFIG, ["vendor/backend"], { LOG_LEVEL: "warn", CALLBACK_RATE_LIMIT_PER_MINUTE: "1000000" });
  try {
    const { "vendor/backend": dispatched } = await dispatchPr(world, ["vendor/backend"]);
    const tokens = await Promise.all(Array.from({ length: count }, () => world.issuer.mint({ repository: "vendor/backend" })));
    const url = world.relay.url("/relay/v1/callback");
    const samples: number[] = [];
    for (let i = 0; i < count; i++) {
      const body = JSON.stringify({ relay_token: dispatched.callbackToken, workflow: workflowReport({ job_name: `job-${i}` }) });
      const started = performance.now();
      const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${tokens[i]}` }, body });
      const answer = (await response.json()) as { ok: boolean; duplicate?: boolean };
      samples.push(performance.now() - started);
      if (!answer.ok || answer.duplicate) throw new Error(`callback ${i} was not a new transition: ${JSON.stringify(answer)}`);
    }
    return {
      name: `${count} sequential callbacks (real server, Redis, local OIDC issuer)`,
      rows: [
        ["p50 ms", percentile(samples, 50).toFixed(2)],
        ["p99 ms", percentile(samples, 99).toFixed(2)],
        ["max ms", Math.max(...samples).toFixed(2)],
      ],
    };
  } finally {
    await world.close();
  }
}
