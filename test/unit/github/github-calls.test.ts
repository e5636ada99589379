import { GitHubCalls } from "../../../src/github/github-calls";
import { createMetrics } from "../../../src/metrics/metrics";
import { RedisStore } from "../../../src/store/redis-store";
import { cleanupRedisPrefix, testRedisUrl, uniqueRedisPrefix } from "../../support/redis-prefix";

describe("GitHubCalls shares lastOkAt and failingSince through the store", () => {
  const prefix = uniqueRedisPrefix();
  let time = Date.parse("2026-01-01T00:00:00Z");
  const now = () => time;
  const stores: RedisStore[] = [];
  /** Two relay processes (or Lambda containers) on one Redis. */
  const process = () => {
    const store = new RedisStore(testRedisUrl(), prefix);
    stores.push(store);
    const calls = new GitHubCalls(createMetrics(), now);
    calls.useStore(store);
    return calls;
  };

  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
    await cleanupRedisPrefix(prefix);
  });

  test("a failing spell one process saw is reported by the other, and a success anywhere ends it", async () => {
    const a = process();
    const b = process();
    await a.observe({ method: "GET", status: 200, outcome: "ok" });
    expect(await b.state()).toEqual({ lastOkAt: "2026-01-01T00:00:00.000Z", failingSince: null });

    time += 1_000;
    await a.observe({ method: "POST", status: 502, outcome: "server_error" });
    time += 30_000;
    await a.observe({ method: "POST", status: null, outcome: "network_error" });
    expect((await b.state()).failingSince).toBe("2026-01-01T00:00:01.000Z");

    // A 404 is GitHub answering: it neither starts nor ends a spell.
    await b.observe({ method: "GET", status: 404, outcome: "client_error" });
    expect((await a.state()).failingSince).toBe("2026-01-01T00:00:01.000Z");

    time += 1_000;
    await b.observe({ method: "GET", status: 200, outcome: "ok" });
    expect(await a.state()).toEqual({ lastOkAt: "2026-01-01T00:00:32.000Z", failingSince: null });
  });

  test("counts every call by method, status class and outcome", async () => {
    const metrics = createMetrics();
    const calls = new GitHubCalls(metrics, now);
    await calls.observe({ method: "POST", status: null, outcome: "network_error" });
    await calls.observe({ method: "POST", status: 503, outcome: "server_error" });
    const text = await metrics.registry.metrics();
    expect(text).toContain('ci_relay_github_api_calls_total{method="POST",status="network",outcome="network_error"} 1');
    expect(text).toContain('ci_relay_github_api_calls_total{method="POST",status="5xx",outcome="server_error"} 1');
  });
});
