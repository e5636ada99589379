import { join } from "node:path";
import { dispatchPr, startCallbackWorld, workflowReport } from "../test/support/callback-world";
import { load } from "./load";
import { cpuMs } from "./proc-stats";

const CONFIG = `
version: 1
upstreams: [pytorch/pytorch]
downstreams:
  - { repo: vendor/backend, level: L2 }
`;
const CONNECTIONS = 50;
/** Time given to a profiled relay to write its profile. */
const PROFILE_WRITE_MS = 3_000;

export interface CallbackFigures {
  callbacks: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** the relay process's CPU time per callback (the HUD sends its outbox work causes included) */
  cpuMsPerCallback: number;
  /** answers other than 200, connection errors and timeouts: all should be 0 */
  failures: number;
}

/**
 * Callbacks as downstream jobs send them, `CONNECTIONS` at a time over keep-alive: each with its own
 * real OIDC token (RS256, minted before timing starts) and the dispatch's relay token, each a real
 * transition (a new job's in_progress), so every one is verified, written with its audit record and
 * HUD outbox task. With `profileDir`, the relay's CPU profile of the load is written there.
 */
export async function measureCallbacks(count: number, options: { profileDir?: string } = {}): Promise<CallbackFigures> {
  const { profileDir } = options;
  const world = await startCallbackWorld(
    CONFIG,
    ["vendor/backend"],
    {
      LOG_LEVEL: "warn",
      CALLBACK_RATE_LIMIT_PER_MINUTE: "1000000",
      ...(profileDir === undefined ? {} : { BENCH_PROFILE_DIR: profileDir }),
    },
    { nodeArgs: profileDir === undefined ? [] : ["--require", join(__dirname, "profile-on-signal.js")] },
  );
  try {
    const { "vendor/backend": dispatched } = await dispatchPr(world, ["vendor/backend"]);
    const warmup = Math.min(500, Math.floor(count / 10));
    const tokens = await Promise.all(
      Array.from({ length: count + warmup }, () => world.issuer.mint({ repository: "vendor/backend" })),
    );
    let sent = 0;
    const next = () => {
      const i = sent++;
      return {
        path: "/relay/v1/callback",
        headers: { "content-type": "application/json", authorization: `Bearer ${tokens[i % tokens.length]}` },
        body: JSON.stringify({
          relay_token: dispatched.callbackToken,
          workflow: workflowReport({ job_name: `job-${i}` }),
        }),
      };
    };
    await load(world.relay.baseUrl, next, { connections: 10, amount: warmup });
    if (profileDir !== undefined) process.kill(world.relay.pid, "SIGUSR2");
    const cpuBefore = cpuMs(world.relay.pid);
    const result = await load(world.relay.baseUrl, next, { connections: CONNECTIONS, amount: count });
    const cpuMsPerCallback = (cpuMs(world.relay.pid) - cpuBefore) / Math.max(1, result.requests);
    if (profileDir !== undefined) {
      process.kill(world.relay.pid, "SIGUSR2");
      await new Promise((done) => setTimeout(done, PROFILE_WRITE_MS));
    }
    return {
      callbacks: result.requests,
      perSecond: result.perSecond,
      p50Ms: result.p50Ms,
      p99Ms: result.p99Ms,
      cpuMsPerCallback,
      failures: result.non2xx + result.errors,
    };
  } finally {
    await world.close();
  }
}
