import { Cluster, type Command } from "ioredis";
import pino from "pino";
import { workflowReportSchema } from "../../../src/jobs/workflow-report";
import { recordJobReport } from "../../../src/callback/record-job-report";
import { transitionEffects } from "../../../src/callback/transition-effects";
import type { RelayEnv } from "../../../src/config/env";
import { nightlyHudTaskOps } from "../../../src/hud/hud-task";
import { createMetrics } from "../../../src/metrics/metrics";
import { oncallCommentOps } from "../../../src/checks/oncall/oncall-comment-state";
import { installationLane } from "../../../src/outbox/lanes";
import { Outbox } from "../../../src/outbox/outbox";
import { checksShownOp } from "../../../src/records/check-runs";
import { recordDispatchOps, updateDispatch } from "../../../src/records/dispatches";
import { recordGitHubOk } from "../../../src/records/github-calls";
import { appendJobRequest } from "../../../src/records/job-requests";
import { keys } from "../../../src/records/keys";
import { prefixedKey } from "../../../src/store/prefixed-key";
import { recordNightlyReportOps, writeIfNightlyReportIs } from "../../../src/records/nightly-reports";
import { lockOncallComment, storeOncallComment, unlockOncallComment } from "../../../src/records/oncall-comments";
import { relayDelivery } from "../../../src/relay/relay-delivery";
import { supersedeDispatches } from "../../../src/relay/supersede-dispatches";
import { recordedDispatchesAsStored } from "../../../src/checks/recorded-dispatches";
import { RedisStore } from "../../../src/store/redis-store";
import type { Store, WriteOp } from "../../../src/store/store";
import { dispatchRecord, jobKey } from "../../support/dispatch-fixtures";
import { nightlyReport } from "../callback/nightly/nightly-fixtures";
import { startOwnRedisCluster, type OwnRedisCluster } from "../../support/own-redis-cluster";
import { downstream, relayConfig } from "../../support/relay-config";
import { pullRequestEvent } from "../../support/webhooks";
import { workflowReport } from "../../support/callback-world";

/**
 * On a Redis Cluster every atomic write must stay within one hash slot, and a script must be handed
 * every key it touches. The relay's real write paths run here against a 3-master cluster through a
 * store that records each atomic write; slots are the cluster's own answer (CLUSTER KEYSLOT), and
 * the keys a script was given are read off the commands sent.
 */
const PREFIX = "ci-relay-slots:";
const NOW = 1_800_000_000_000;

interface AtomicWrite {
  kind: "write" | "writeIf";
  keys: string[];
}

let cluster: OwnRedisCluster;
let client: Cluster;
let store: RedisStore;
const writes: AtomicWrite[] = [];
/** The keys handed to each script run (EVALSHA/EVAL), prefixed as stored. */
const declared: string[][] = [];

/** The store, recording the keys of every atomic write made through it. */
const recording: Store = new Proxy({} as Store, {
  get(_, name: keyof Store) {
    if (name === "write")
      return (ops: WriteOp[]) => (writes.push({ kind: "write", keys: ops.map((op) => op.key) }), store.write(ops));
    if (name === "writeIf")
      return (key: string, expected: string | null, ops: WriteOp[]) => (
        writes.push({ kind: "writeIf", keys: [key, ...ops.map((op) => op.key)] }),
        store.writeIf(key, expected, ops)
      );
    const member = store[name];
    return typeof member === "function" ? member.bind(store) : member;
  },
});

beforeAll(async () => {
  cluster = await startOwnRedisCluster();
  // No auto-pipelining: every command passes through sendCommand, where the scripts' keys are read.
  client = new Cluster([{ host: "127.0.0.1", port: cluster.ports[0] }]);
  const send = client.sendCommand.bind(client);
  client.sendCommand = (command: Command, ...rest: unknown[]) => {
    if (command.name === "evalsha" || command.name === "eval") {
      const args = command.args.map(String);
      declared.push(args.slice(2, 2 + Number(args[1])));
    }
    return (send as (command: Command, ...rest: unknown[]) => unknown)(command, ...rest);
  };
  store = new RedisStore(client, PREFIX);
}, 90_000);

afterAll(async () => {
  await store.close();
  await cluster.stop();
});

async function slotsOf(write: AtomicWrite): Promise<Set<number>> {
  return new Set(await Promise.all(write.keys.map((key) => cluster.keySlot(prefixedKey(PREFIX, key)))));
}

describe("keys that commit together share a hash slot", () => {
  beforeAll(async () => {
    const config = relayConfig({
      downstreams: [
        downstream({ repo: "ascend/pytorch", level: "L4" }),
        downstream({ repo: "vendor/backend", level: "L3", device: "npu" }),
        downstream({ repo: "farm/gate", level: "L4", transport: "queue" }),
      ],
    });
    const outbox = new Outbox(recording);
    const log = pino({ level: "silent" });
    const payload = pullRequestEvent("opened", {
      repo: "pytorch/pytorch",
      installationId: 1,
      number: 12,
      authorAssociation: "OWNER",
    });
    // A relayed delivery (claim, payload, dispatches, outbox tasks, check runs, summary) and a skipped one.
    await relayDelivery({ store: recording, outbox, metrics: createMetrics(), log, now: () => NOW }, config, {
      id: "d1",
      name: "pull_request",
      payload,
      text: JSON.stringify(payload),
    });
    const foreign = pullRequestEvent("opened", {
      repo: "someone/else",
      installationId: 1,
      number: 3,
      authorAssociation: "OWNER",
    });
    await relayDelivery({ store: recording, outbox, metrics: createMetrics(), log, now: () => NOW }, config, {
      id: "d2",
      name: "pull_request",
      payload: foreign,
      text: "{}",
    });
    // A callback's transition: job state, its index, check runs, HUD task and deadlines.
    const dispatch = dispatchRecord({ downstream: "ascend/pytorch", level: "L4" });
    await recording.write(recordDispatchOps(dispatch));
    const relay = { outbox, env: { hudUrl: "http://hud.example/api", hudToken: "t" } as RelayEnv };
    await recordJobReport(
      recording,
      dispatch,
      {
        key: jobKey({ requestId: dispatch.requestId }),
        event: { status: "in_progress" },
        detailsUrl: "https://ci.example/1",
        workflowName: "CI",
        checkRunId: "9",
        summary: null,
        at: NOW,
      },
      (transition) => transitionEffects(relay, config, transition, null, NOW),
    );
    await updateDispatch(recording, dispatch.requestId, (r) => ({ ...r, state: "dispatched", dispatchedAt: NOW }));
    // A label shows a dispatch's check runs and schedules its PR's oncall comment, in one write.
    const notifying = relayConfig({
      downstreams: [downstream({ repo: "ascend/pytorch", level: "L4", notify: ["comment"] })],
    });
    await recording.write([checksShownOp(dispatch.requestId), ...oncallCommentOps(outbox, notifying, dispatch, NOW)]);
    // The oncall-comment task's lease and the comment it remembers.
    expect(await lockOncallComment(recording, "pytorch/pytorch", 12, "task-1", 150)).toBe(true);
    await storeOncallComment(recording, "pytorch/pytorch", 12, { id: 7, bodySha256: "0".repeat(64) });
    await unlockOncallComment(recording, "pytorch/pytorch", 12, "task-1");
    // A nightly report's commit: the report, its indexes and its HUD task, if none is stored yet.
    const report = nightlyReport({ at: NOW });
    const workflow = workflowReportSchema.parse(workflowReport({ status: "completed", conclusion: "success" }));
    const reportOps = [
      ...recordNightlyReportOps(report),
      ...nightlyHudTaskOps(outbox, relay.env, report, workflow, NOW),
    ];
    expect(await writeIfNightlyReportIs(recording, report, null, reportOps)).toBe(true);
    // A new head supersedes the PR's dispatch not sent yet, dropping its outbox task with it.
    await supersedeDispatches(
      { store: recording, outbox, metrics: createMetrics() },
      { repo: "pytorch/pytorch", number: 12, sha: "f".repeat(40) },
      await recordedDispatchesAsStored(recording, { repo: "pytorch/pytorch", pr: 12 }),
      NOW,
    );
    // The outbox's own life cycle, over two lanes.
    await outbox.enqueue(
      { id: "t1", kind: "dispatch", lane: installationLane("a/one"), data: { requestId: "t1" } },
      NOW,
    );
    await outbox.enqueue(
      { id: "t2", kind: "dispatch", lane: installationLane("b/two"), data: { requestId: "t2" } },
      NOW,
    );
    const leases = await outbox.claim(NOW, 1000, 10);
    const [first, second] = ["t1", "t2"].map((id) => {
      const lease = leases.find((taken) => taken.task.id === id);
      if (lease === undefined) throw new Error(`task ${id} was not claimed`);
      return lease;
    });
    await outbox.retryAt(first.task, NOW + 1000, "again");
    await outbox.bury(second.task, NOW, "given up");
    await outbox.complete(first, NOW);
    // A queue downstream's job request, and GitHub's health pair.
    await appendJobRequest(recording, { request_id: "r1", job_id: "build", downstream: "farm/gate" }, 5);
    await recordGitHubOk(recording, NOW);
  });

  it("exercised every family's atomic writes, the delivery's commit among them", () => {
    expect(writes.filter((write) => write.keys.length > 1).length).toBeGreaterThan(8);
    expect(Math.max(...writes.map((write) => write.keys.length))).toBeGreaterThan(15);
    const written = new Set(writes.flatMap((write) => write.keys));
    for (const key of [
      keys.outbox.lanes,
      keys.outbox.lane(installationLane("a/one")),
      keys.dispatches.recent,
      keys.dispatches.byDownstream("ascend/pytorch"),
      keys.nightly.recent,
      keys.deliveries.recent,
      keys.deadlines.checkRuns,
      keys.deadlines.jobs,
      keys.jobRequests.stream,
      keys.githubCalls.lastOkAt,
    ]) {
      expect(written).toContain(key);
    }
  });

  it("each atomic write touches one slot, by the cluster's own CLUSTER KEYSLOT", async () => {
    for (const write of writes.filter((w) => w.keys.length > 1)) {
      expect({ keys: write.keys, slots: (await slotsOf(write)).size }).toEqual({ keys: write.keys, slots: 1 });
    }
  });

  it("the job-request stream keeps its SPEC name and its companions still share its slot", async () => {
    const stream = await cluster.keySlot(prefixedKey(PREFIX, keys.jobRequests.stream));
    expect(await cluster.keySlot(prefixedKey(PREFIX, keys.jobRequests.enqueued("r1", "build")))).toBe(stream);
    expect(await cluster.keySlot(prefixedKey(PREFIX, keys.jobRequests.maxDeliveries("farm/gate")))).toBe(stream);
  });

  it("every key a conditional write touches is declared to its script", () => {
    const conditional = writes.filter((write) => write.kind === "writeIf");
    expect(declared.length).toBeGreaterThanOrEqual(conditional.length);
    for (const write of conditional) {
      const expected = [...new Set(write.keys.map((key) => prefixedKey(PREFIX, key)))].sort();
      expect(declared.map((keysOfScript) => [...keysOfScript].sort())).toContainEqual(expected);
    }
  });

  it("the lanes claim declares the lanes set and every lane it takes from, all in one slot", async () => {
    const lanes = prefixedKey(PREFIX, keys.outbox.lanes);
    const claims = declared.filter((keysOfScript) => keysOfScript[0] === lanes);
    expect(claims.length).toBeGreaterThan(0);
    const laneKeys = claims.flat();
    for (const lane of [installationLane("a/one"), installationLane("b/two")])
      expect(laneKeys).toContain(prefixedKey(PREFIX, keys.outbox.lane(lane)));
    for (const keysOfScript of claims)
      expect(new Set(await Promise.all(keysOfScript.map((key) => cluster.keySlot(key)))).size).toBe(1);
  });

  it("a write across slots is refused by the cluster, so a key outside its family's tag cannot slip through", async () => {
    await expect(store.writeIf("untagged-a", null, [{ op: "set", key: "untagged-b", value: "1" }])).rejects.toThrow(
      /CROSSSLOT/,
    );
  });
});
