import pino from "pino";
import { Probot, ProbotOctokit } from "probot";
import { parseRelayConfig } from "../../../src/config/parse-relay-config";
import { createMetrics } from "../../../src/metrics/metrics";
import { redeliverMissed } from "../../../src/redelivery/redeliver-missed";
import { MemoryStore } from "../../../src/store/memory-store";
import { testAppCredentials } from "../../support/app-key";
import { startFakeGitHub, type FakeGitHub } from "../../support/fake-github";
import { keys } from "../../../src/records/keys";

/**
 * `redeliverMissed` against the fake GitHub over HTTP; the App's webhook points nowhere, so every
 * delivery fails. GitHub write pacing is off: it would make each ask take a second.
 */
describe("redeliverMissed", () => {
  let github: FakeGitHub;
  let store: MemoryStore;
  let relay: Parameters<typeof redeliverMissed>[0];
  let configLoaded: boolean;
  let time: number;
  const event = { action: "opened", installation: { id: 11 } };
  const aMinuteLater = () => (time += 61_000);

  beforeEach(async () => {
    github = await startFakeGitHub();
    time = Date.now();
    store = new MemoryStore({ now: () => time });
    const { appId, privateKeyPem } = testAppCredentials();
    const probot = new Probot({
      appId,
      privateKey: privateKeyPem,
      baseUrl: github.apiUrl,
      log: pino({ level: "silent" }),
      Octokit: ProbotOctokit.defaults((options: object) => ({
        ...options,
        retry: { enabled: false },
        throttle: { enabled: false },
      })),
    });
    configLoaded = true;
    const config = {
      current: () =>
        configLoaded ? parseRelayConfig("version: 1\nupstreams: [o/r]\ndownstreams: []\n", { source: "test" }) : null,
    };
    relay = { probot, store, metrics: createMetrics(), log: pino({ level: "silent" }), config };
  });

  afterEach(async () => {
    await github.close();
  });

  test("asks for a failed delivery the relay never stored, and not for one it stored anyway", async () => {
    const lost = await github.hooks.deliver("pull_request", event, "lost");
    await github.hooks.deliver("pull_request", event, "stored-anyway"); // GitHub gave up waiting, the relay had it
    await store.write([{ op: "set", key: keys.deliveries.claim("stored-anyway"), value: "done" }]);
    expect(await redeliverMissed(relay, time)).toEqual({ checked: true, listed: 2, asked: 1, failed: 0, left: 0 });
    expect(github.hooks.redeliveryRequests).toEqual([lost.id]);
  });

  test("does not check while no relay config is loaded: the redelivery would only be answered 503", async () => {
    await github.hooks.deliver("pull_request", event, "lost");
    configLoaded = false;
    expect((await redeliverMissed(relay, time)).checked).toBe(false);
    configLoaded = true;
    expect(await redeliverMissed(relay, time)).toMatchObject({ checked: true, asked: 1 });
  });

  test("checks at most once a minute", async () => {
    await github.hooks.deliver("pull_request", event, "lost");
    expect((await redeliverMissed(relay, time)).checked).toBe(true);
    expect(await redeliverMissed(relay, time + 30_000)).toEqual({
      checked: false,
      listed: 0,
      asked: 0,
      failed: 0,
      left: 0,
    });
    expect(github.requestsTo("GET", "/app/hook/deliveries")).toHaveLength(1);
  });

  test("asks again at the next check when GitHub refused the ask, and only once it worked", async () => {
    const lost = await github.hooks.deliver("pull_request", event, "lost");
    github.failNext({ method: "POST", path: "/app/hook/deliveries/{id}/attempts", status: 502 });
    expect(await redeliverMissed(relay, time)).toMatchObject({ asked: 0, failed: 1 });
    expect(await redeliverMissed(relay, aMinuteLater())).toMatchObject({ asked: 1, failed: 0 });
    await github.hooks.settle(); // the redelivery fails to connect too
    expect(await redeliverMissed(relay, aMinuteLater())).toMatchObject({ asked: 0, failed: 0 });
    expect(github.hooks.redeliveryRequests).toEqual([lost.id]);
  });

  test("does not ask again for a delivery GitHub refused to redeliver for good", async () => {
    const gone = await github.hooks.deliver("pull_request", event, "gone");
    github.failNext({ method: "POST", path: "/app/hook/deliveries/{id}/attempts", status: 422 });
    expect(await redeliverMissed(relay, time)).toMatchObject({ asked: 0, failed: 1 });
    expect(await redeliverMissed(relay, aMinuteLater())).toMatchObject({ checked: true, asked: 0, failed: 0 });
    expect(github.requestsTo("POST", `/app/hook/deliveries/${gone.id}/attempts`)).toHaveLength(1);
  });

  test("asks at most ten times per check and leaves the rest to the next", async () => {
    const lost = [];
    for (let i = 0; i < 12; i++) lost.push(await github.hooks.deliver("pull_request", event, `lost-${i}`));
    expect(await redeliverMissed(relay, time)).toMatchObject({ asked: 10, left: 2 });
    await github.hooks.settle();
    expect(await redeliverMissed(relay, aMinuteLater())).toMatchObject({ asked: 2, left: 0 });
    expect([...github.hooks.redeliveryRequests].sort()).toEqual(lost.map((d) => d.id).sort());
  });

  test("pages back only to what the last check saw, with a few minutes' overlap", async () => {
    for (let i = 0; i < 150; i++) await github.hooks.deliver("pull_request", event, `old-${i}`);
    await store.write(
      github.hooks.deliveries
        .slice(1)
        .map((d) => ({ op: "set" as const, key: keys.deliveries.claim(d.guid), value: "done" })),
    );
    expect(await redeliverMissed(relay, time)).toMatchObject({ listed: 150, asked: 1 });
    expect(github.requestsTo("GET", "/app/hook/deliveries")).toHaveLength(2);

    github.clearRequests();
    time += 10 * 60_000; // the next check: the old deliveries are now far behind the mark
    for (const delivery of github.hooks.deliveries)
      delivery.deliveredAt = new Date(Date.parse(delivery.deliveredAt) - 10 * 60_000).toISOString();
    const fresh = await github.hooks.deliver("pull_request", event, "fresh");
    expect(await redeliverMissed(relay, time)).toMatchObject({ listed: 1, asked: 1 });
    expect(github.requestsTo("GET", "/app/hook/deliveries")).toHaveLength(1);
    expect(github.hooks.redeliveryRequests.at(-1)).toBe(fresh.id);
  });
});
