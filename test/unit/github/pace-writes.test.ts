import { ProbotOctokit } from "probot";
import { githubFailure } from "../../../src/broker/github-failure";
import { OUTBOX_WRITE_WAIT_MS, WritePacer, WriteSlotUnavailable } from "../../../src/github/pace-writes";
import { createMetrics } from "../../../src/metrics/metrics";
import { classifyFailure } from "../../../src/outbox/classify-failure";
import { deferralOf } from "../../../src/outbox/deferral";
import { MemoryStore } from "../../../src/store/memory-store";
import { keys } from "../../../src/records/keys";
import type { Store } from "../../../src/store/store";

/** A client whose requests reach this recorder instead of GitHub. */
function recordingClient(): { client: InstanceType<typeof ProbotOctokit>; sent: string[] } {
  const sent: string[] = [];
  const fetch = async (url: string | URL, init?: RequestInit) => {
    sent.push(`${init?.method ?? "GET"} ${new URL(url).pathname}`);
    return new Response(init?.method === "GET" ? "{}" : null, { status: init?.method === "GET" ? 200 : 204 });
  };
  const client = new ProbotOctokit({
    auth: { token: "t" },
    throttle: { enabled: false },
    retry: { enabled: false },
    request: { fetch },
  });
  return { client, sent };
}

function quietLog() {
  const lines: string[] = [];
  return {
    lines,
    log: { warn: (_: object, msg: string) => lines.push(msg), info: (_: object, msg: string) => lines.push(msg) },
  };
}

describe("WritePacer", () => {
  it("reserves a slot in the installation's own lane for each write and none for reads", async () => {
    const store = new MemoryStore();
    const lanes: string[] = [];
    const spy: Pick<Store, "reserveSlot"> = {
      reserveSlot: (key, interval, maxWait) => {
        lanes.push(key);
        return store.reserveSlot(key, interval, maxWait);
      },
    };
    const pacer = new WritePacer(spy, quietLog().log, createMetrics());
    const one = recordingClient();
    const two = recordingClient();
    pacer.pace(one.client, 21);
    pacer.pace(two.client, 22);

    await one.client.request("GET /repos/a/b");
    await one.client.request("POST /repos/a/b/dispatches", { event_type: "x" });
    await two.client.request("POST /repos/c/d/dispatches", { event_type: "x" });

    expect(lanes).toEqual([keys.writePacing(21), keys.writePacing(22)]);
    expect(one.sent).toEqual(["GET /repos/a/b", "POST /repos/a/b/dispatches"]);
    expect(two.sent).toEqual(["POST /repos/c/d/dispatches"]);
  });

  it("refuses a write whose next slot is too far away, without sending it, as a retryable rate limit", async () => {
    const full: Pick<Store, "reserveSlot"> = { reserveSlot: async () => ({ reserved: false, waitMs: 42_300 }) };
    const { client, sent } = recordingClient();
    const metrics = createMetrics();
    new WritePacer(full, quietLog().log, metrics).pace(client, 21);

    const error = await client.request("POST /repos/a/b/dispatches", { event_type: "x" }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(WriteSlotUnavailable);
    expect(sent).toEqual([]);
    expect(classifyFailure(error)).toMatchObject({ retryable: true, retryAfterMs: 43_000 });
    expect(githubFailure(error).kind).toBe("github-rate-limited");
    expect((await metrics.githubRateLimitWaits.get()).values).toEqual([{ labels: { kind: "pacing" }, value: 1 }]);
  });

  it("puts an outbox write whose slot is not free within OUTBOX_WRITE_WAIT_MS off at once, where the broker's would wait", async () => {
    const store = new MemoryStore();
    const { client, sent } = recordingClient();
    const metrics = createMetrics();
    new WritePacer(store, quietLog().log, metrics).pace(client, 21);
    const outbox = { request: { pacingWaitMs: OUTBOX_WRITE_WAIT_MS } };

    await client.request("POST /repos/a/b/dispatches", { event_type: "x", ...outbox });
    const error = await client
      .request("POST /repos/a/b/dispatches", { event_type: "y", ...outbox })
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(WriteSlotUnavailable);
    expect(deferralOf(error)).toBeGreaterThan(OUTBOX_WRITE_WAIT_MS);
    expect(sent).toEqual(["POST /repos/a/b/dispatches"]);
    // Only writes sent count towards the installation's budget.
    expect((await metrics.githubWrites.get()).values).toEqual([{ labels: { installation: "21" }, value: 1 }]);
  });

  it("still writes when the store cannot be reached, saying so once per outage", async () => {
    let up = false;
    const flaky: Pick<Store, "reserveSlot"> = {
      reserveSlot: async () => {
        if (!up) throw new Error("connect ECONNREFUSED");
        return { reserved: true, waitMs: 0 };
      },
    };
    const { lines, log } = quietLog();
    const { client, sent } = recordingClient();
    new WritePacer(flaky, log, createMetrics()).pace(client, 21);

    await client.request("POST /repos/a/b/dispatches", { event_type: "1" });
    await client.request("POST /repos/a/b/dispatches", { event_type: "2" });
    up = true;
    await client.request("POST /repos/a/b/dispatches", { event_type: "3" });

    expect(sent).toHaveLength(3);
    expect(lines).toEqual([
      "write pacing store unavailable; pacing GitHub writes in this process only",
      "write pacing store reachable again; GitHub writes paced across processes",
    ]);
  });
});
