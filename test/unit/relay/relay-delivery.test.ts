import pino from "pino";
import { backfillLabelCheckRuns } from "../../../src/checks/backfill-label-check-runs";
import { createMetrics } from "../../../src/metrics/metrics";
import { Outbox } from "../../../src/outbox/outbox";
import { explainOwnEvent, relayDelivery } from "../../../src/relay/relay-delivery";
import { MemoryStore } from "../../../src/store/memory-store";
import type { Store, WriteOp } from "../../../src/store/store";
import { downstream, relayConfig } from "../../support/relay-config";
import { pullRequestEvent, pushEvent } from "../../support/webhooks";
import { keys } from "../../../src/records/keys";
import { listOutboxTaskIds } from "../../../src/records/outbox-tasks";
import { listDispatchIds, readDispatches } from "../../../src/records/dispatches";
import { areChecksShown } from "../../../src/records/check-runs";
import {
  claimDelivery,
  deliveryClaimState,
  listDeliveryIds,
  readDeliverySummary,
} from "../../../src/records/deliveries";

const log = pino({ level: "silent" });
const payload = pullRequestEvent("opened", {
  repo: "pytorch/pytorch",
  installationId: 1,
  number: 12,
  authorAssociation: "OWNER",
});
const text = JSON.stringify(payload);

function deps(store: Store) {
  return { store, outbox: new Outbox(store), metrics: createMetrics(), log, now: () => 1_800_000_000_000 };
}

/** Whether the dispatch task of each configured downstream is stored and scheduled. */
async function dispatchTasks(store: Store, deliveryId: string): Promise<boolean[]> {
  return Promise.all(
    ["ascend/pytorch", "vendor/backend"].map(async (repo) => {
      const id = `dispatch:${deliveryId}:${repo}`;
      return (await new Outbox(store).peek(id)) !== null && (await listOutboxTaskIds(store, 100)).includes(id);
    }),
  );
}

describe("relayDelivery", () => {
  it("stores the payload as the delivery's own text, not re-encoded", async () => {
    const store = new MemoryStore();
    const signedText = JSON.stringify(payload, null, 1);
    expect(
      await relayDelivery(deps(store), relayConfig(), {
        id: "as-sent",
        name: "pull_request",
        payload,
        text: signedText,
      }),
    ).toBe("relayed");
    expect(await store.get(keys.deliveries.payload("as-sent"))).toBe(signedText);
  });

  it("stores the payload once per delivery, not per downstream, and not at all when only job requests go out", async () => {
    const store = new MemoryStore();
    const fanOut = relayConfig({
      downstreams: ["a/one", "b/two", "c/three", "d/four"].map((repo) => downstream({ repo })),
    });
    expect(await relayDelivery(deps(store), fanOut, { id: "fan", name: "pull_request", payload, text })).toBe(
      "relayed",
    );
    const payloads = (await store.getMany(["fan", "a/one"].map(keys.deliveries.payload))).filter((v) => v !== null);
    expect(payloads).toEqual([text]);
    const queued = relayConfig({ downstreams: [downstream({ repo: "farm/queue", transport: "queue", runsOn: "x" })] });
    expect(await relayDelivery(deps(store), queued, { id: "q", name: "pull_request", payload, text })).toBe("relayed");
    expect(await store.get(keys.deliveries.payload("q"))).toBeNull();
  });

  it("stores one dispatch record and one outbox task per downstream, and marks the delivery done", async () => {
    const store = new MemoryStore();
    const outcome = await relayDelivery(deps(store), relayConfig(), { id: "d1", name: "pull_request", payload, text });
    expect(outcome).toBe("relayed");
    expect(await deliveryClaimState(store, "d1")).toBe("done");
    expect(await dispatchTasks(store, "d1")).toEqual([true, true]);
    const ids = await listDispatchIds(store, { repo: "pytorch/pytorch", pr: 12 }, 10);
    const records = await readDispatches(store, ids);
    expect(records.map((r) => [r?.downstream, r?.level, r?.state, r?.upstream.ref])).toEqual(
      expect.arrayContaining([
        ["Ascend/pytorch", "L3", "pending", "refs/pull/12/head"],
        ["vendor/backend", "L2", "pending", "refs/pull/12/head"],
      ]),
    );
  });

  it("stores a ciflow tag push for PR #N with its L3 checks hidden and the label lookup for later, without asking GitHub", async () => {
    const store = new MemoryStore();
    const tag = pushEvent({
      repo: "pytorch/pytorch",
      installationId: 1,
      ref: "refs/tags/ciflow/trunk/123",
      after: "e".repeat(40),
    });
    expect(
      await relayDelivery(deps(store), relayConfig(), {
        id: "tag-1",
        name: "push",
        payload: tag,
        text: JSON.stringify(tag),
      }),
    ).toBe("relayed");
    const ids = await listDispatchIds(store, { repo: "pytorch/pytorch", pr: 123 }, 10);
    const records = await readDispatches(store, ids);
    expect(records.map((r) => r?.upstream)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ sha: "e".repeat(40), ref: "refs/tags/ciflow/trunk/123", prNumber: 123 }),
      ]),
    );
    const l3 = records.find((r) => r?.level === "L3");
    expect(await areChecksShown(store, l3?.requestId ?? "")).toBe(false);
    expect(await store.get(keys.outbox.task("ciflow-labels:tag-1"))).not.toBeNull();
  });

  it("asks for no label lookup for a plain branch push", async () => {
    const store = new MemoryStore();
    const push = pushEvent({ repo: "pytorch/pytorch", installationId: 1, ref: "refs/heads/main" });
    expect(
      await relayDelivery(deps(store), relayConfig(), {
        id: "push-1",
        name: "push",
        payload: push,
        text: JSON.stringify(push),
      }),
    ).toBe("relayed");
    expect(await store.get(keys.outbox.task("ciflow-labels:push-1"))).toBeNull();
  });

  it("relays a delivery once however many times it arrives, concurrently or not", async () => {
    const store = new MemoryStore();
    const outcomes = await Promise.all(
      Array.from({ length: 10 }, () =>
        relayDelivery(deps(store), relayConfig(), { id: "same", name: "pull_request", payload, text }),
      ),
    );
    expect(outcomes.filter((o) => o === "relayed")).toHaveLength(1);
    expect(outcomes.filter((o) => o === "duplicate")).toHaveLength(9);
    expect(await relayDelivery(deps(store), relayConfig(), { id: "same", name: "pull_request", payload, text })).toBe(
      "duplicate",
    );
    expect(await dispatchTasks(store, "same")).toEqual([true, true]);
    const ids = await listDispatchIds(store, { repo: "pytorch/pytorch", pr: 12 }, 100);
    expect(ids).toHaveLength(2);
  });

  it("does not claim a delivery it does not relay", async () => {
    const store = new MemoryStore();
    const outcome = await relayDelivery(deps(store), relayConfig({ upstreams: ["other/repo"] }), {
      id: "x",
      name: "pull_request",
      payload,
      text,
    });
    expect(outcome).toBe("skipped:not-upstream");
    expect(await deliveryClaimState(store, "x")).toBe("free");
  });

  it("stores why a skipped delivery was not relayed, per downstream, with its receive and event times", async () => {
    const store = new MemoryStore();
    const untrusted = pullRequestEvent("opened", {
      repo: "pytorch/pytorch",
      installationId: 1,
      number: 12,
      authorAssociation: "CONTRIBUTOR",
    });
    expect(
      await relayDelivery(deps(store), relayConfig(), {
        id: "u",
        name: "pull_request",
        payload: untrusted,
        text: JSON.stringify(untrusted),
      }),
    ).toBe("skipped:untrusted-author");
    const summary = await readDeliverySummary(store, "u");
    expect(summary).toMatchObject({
      deliveryId: "u",
      event: "pull_request",
      action: "opened",
      receivedAt: 1_800_000_000_000,
      eventAt: Date.parse(untrusted.pull_request.updated_at),
      upstream: {
        repo: "pytorch/pytorch",
        sha: untrusted.pull_request.head.sha,
        ref: "refs/pull/12/head",
        prNumber: 12,
      },
    });
    expect(summary?.downstreams.map((d) => [d.repo, d.dispatched, d.reason, d.dispatchId])).toEqual([
      ["Ascend/pytorch", false, "untrusted-author", null],
      ["vendor/backend", false, "untrusted-author", null],
    ]);
    expect(await listDeliveryIds(store, { repo: "pytorch/pytorch", pr: 12 }, 10)).toEqual(["u"]);
  });

  it("stores a relayed delivery's summary in the plan's write, naming each dispatch it made", async () => {
    const store = new MemoryStore();
    expect(await relayDelivery(deps(store), relayConfig(), { id: "r", name: "pull_request", payload, text })).toBe(
      "relayed",
    );
    const summary = await readDeliverySummary(store, "r");
    const ids = await listDispatchIds(store, { repo: "pytorch/pytorch", pr: 12 }, 10);
    const records = await readDispatches(store, ids);
    expect(summary?.downstreams.map((d) => [d.repo, d.dispatched, d.reason])).toEqual([
      ["Ascend/pytorch", true, "label-missing"],
      ["vendor/backend", true, null],
    ]);
    for (const entry of summary?.downstreams ?? []) {
      expect(records.find((r) => r?.downstream === entry.repo)?.requestId).toBe(entry.dispatchId);
    }
  });

  it("a relayed delivery redelivered after the config changed keeps the summary naming its dispatches", async () => {
    const store = new MemoryStore();
    expect(await relayDelivery(deps(store), relayConfig(), { id: "again", name: "pull_request", payload, text })).toBe(
      "relayed",
    );
    const before = await store.get(keys.deliveries.summary("again"));
    const narrowed = relayConfig({ pullRequest: { actions: ["closed"], trust: null, trustLabel: null } });
    expect(await relayDelivery(deps(store), narrowed, { id: "again", name: "pull_request", payload, text })).toBe(
      "skipped:action-not-relayed",
    );
    expect(await store.get(keys.deliveries.summary("again"))).toBe(before);
  });

  it("a summary that cannot be stored never fails a skipped delivery", async () => {
    const store = new MemoryStore();
    const failing: Store = Object.assign(Object.create(store) as Store, {
      writeIf: async () => Promise.reject(new Error("connection lost")),
    });
    const outcome = await relayDelivery(deps(failing), relayConfig({ upstreams: ["other/repo"] }), {
      id: "f",
      name: "pull_request",
      payload,
      text,
    });
    expect(outcome).toBe("skipped:not-upstream");
  });

  it("records the app's own event as own-event for every downstream", async () => {
    const store = new MemoryStore();
    await explainOwnEvent(deps(store), relayConfig(), { id: "own", name: "pull_request", payload });
    const summary = await readDeliverySummary(store, "own");
    expect(summary?.downstreams.map((d) => d.reason)).toEqual(["own-event", "own-event"]);
  });

  it("releases the claim when the plan cannot be stored, so a redelivery succeeds", async () => {
    const store = new MemoryStore();
    const failing: Store = Object.assign(Object.create(store) as Store, {
      writeIf: async (key: string, expected: string | null, ops: WriteOp[]) => {
        if (ops.length > 1) throw new Error("connection lost");
        return store.writeIf(key, expected, ops);
      },
    });
    await expect(
      relayDelivery(deps(failing), relayConfig(), { id: "d", name: "pull_request", payload, text }),
    ).rejects.toThrow("connection lost");
    expect(await deliveryClaimState(store, "d")).toBe("free");
    expect(await new Outbox(store).depth()).toBe(0);
    expect(await relayDelivery(deps(store), relayConfig(), { id: "d", name: "pull_request", payload, text })).toBe(
      "relayed",
    );
  });

  it("keeps a plan that was stored although the write reported an error (a timed-out reply)", async () => {
    const store = new MemoryStore();
    const appliedThenTimedOut: Store = Object.assign(Object.create(store) as Store, {
      writeIf: async (key: string, expected: string | null, ops: WriteOp[]) => {
        const applied = await store.writeIf(key, expected, ops);
        if (ops.length > 1) throw new Error("Command timed out");
        return applied;
      },
    });
    await expect(
      relayDelivery(deps(appliedThenTimedOut), relayConfig(), { id: "t", name: "pull_request", payload, text }),
    ).rejects.toThrow("timed out");
    expect(await deliveryClaimState(store, "t")).toBe("done");
    expect(await relayDelivery(deps(store), relayConfig(), { id: "t", name: "pull_request", payload, text })).toBe(
      "duplicate",
    );
  });

  it("answers in-flight, not duplicate, when the copy holding the claim never finishes", async () => {
    const store = new MemoryStore();
    await claimDelivery(store, "stuck", "pending:someone-who-died", 120);
    expect(await relayDelivery(deps(store), relayConfig(), { id: "stuck", name: "pull_request", payload, text })).toBe(
      "in-flight",
    );
  }, 10_000);

  it("dispatches a closed PR without check runs, shown or kept for a label, so a merged PR's checks stay as they finished", async () => {
    const store = new MemoryStore();
    const config = relayConfig({
      downstreams: [
        downstream({ repo: "strict/gate", level: "L4" }),
        downstream({ repo: "Ascend/pytorch", level: "L3", device: "npu" }),
      ],
    });
    const closed = pullRequestEvent("closed", {
      repo: "pytorch/pytorch",
      installationId: 1,
      number: 12,
      authorAssociation: "OWNER",
      merged: true,
      labels: [],
    });
    expect(
      await relayDelivery(deps(store), config, {
        id: "c1",
        name: "pull_request",
        payload: closed,
        text: JSON.stringify(closed),
      }),
    ).toBe("relayed");
    const pending = await listOutboxTaskIds(store, 100);
    for (const repo of ["strict/gate", "ascend/pytorch"]) expect(pending).toContain(`dispatch:c1:${repo}`);

    const head = { repo: "pytorch/pytorch", number: 12, sha: closed.pull_request.head.sha };
    expect(
      await backfillLabelCheckRuns(
        { store, outbox: new Outbox(store) },
        config,
        head,
        "ciflow/relay/npu",
        1_800_000_000_000,
      ),
    ).toBe(0);
    const tasks = await listOutboxTaskIds(store, 100);
    expect(tasks.filter((t) => t.startsWith("check-run:"))).toEqual([]);
    expect(await store.zcard(keys.deadlines.checkRuns)).toBe(0);
    const ids = await listDispatchIds(store, { repo: "pytorch/pytorch", pr: 12 }, 10);
    expect(ids).toHaveLength(2);
    for (const id of ids) {
      expect(await store.zcard(keys.checkRuns.names(id))).toBe(0);
      expect(await areChecksShown(store, id)).toBe(false);
    }
  });
});
