import pino from "pino";
import { verifyRelayToken } from "../../../src/auth/relay-token";
import { createMetrics } from "../../../src/metrics/metrics";
import type { Task } from "../../../src/outbox/outbox";
import { enqueueJobTask } from "../../../src/queue/enqueue-job-task";
import { type DispatchRecord } from "../../../src/records/dispatches";
import { RedisStore } from "../../../src/store/redis-store";
import { cleanupRedisPrefix, testRedisUrl, uniqueRedisPrefix } from "../../support/redis-prefix";
import { downstream, relayConfig } from "../../support/relay-config";
import { queueDispatch } from "../../support/queue-dispatch";
import { keys } from "../../../src/records/keys";
import { readDispatch, recordDispatchOps } from "../../../src/records/dispatches";

const SECRET = "queue-unit-relay-token-secret-0123456789abcdef";

describe("enqueueJobTask (real Redis)", () => {
  const prefix = uniqueRedisPrefix();
  const store = new RedisStore(testRedisUrl(), prefix);
  const config = relayConfig({
    downstreams: [
      downstream({ repo: "Farm/Gate", level: "L4", transport: "queue", runsOn: "farm-x86", maxDeliveries: 3 }),
      downstream({
        repo: "farm/multi",
        transport: "queue",
        jobs: [
          { id: "build", runsOn: "x86" },
          { id: "test", runsOn: "gpu" },
        ],
      }),
    ],
  });
  const handler = enqueueJobTask({
    store,
    config: { get: async () => config },
    metrics: createMetrics(),
    log: pino({ level: "silent" }),
    publicUrl: "https://relay.example",
    webBaseUrl: "https://github.com",
    relayTokenSecrets: [SECRET],
  });
  const task = (record: DispatchRecord): Task<"enqueue-job"> => ({
    id: `enqueue-job:x:${record.requestId}`,
    kind: "enqueue-job",
    data: { requestId: record.requestId },
    createdAt: 0,
    attempts: 0,
    lastError: null,
  });
  const entriesOf = async (requestId: string) =>
    (await store.readStreamTail(keys.jobRequests.stream, 1000)).filter((e) => e.fields.request_id === requestId);

  afterAll(async () => {
    await store.close();
    await cleanupRedisPrefix(prefix);
  });

  it("appends the job request with a relay token for this dispatch and marks the dispatch sent", async () => {
    const record = queueDispatch({ requestId: "req-single" });
    await store.write(recordDispatchOps(record));
    await handler.run(task(record));

    const [entry, ...others] = await entriesOf("req-single");
    expect(others).toHaveLength(0);
    expect(entry.fields).toMatchObject({
      schema_version: "jobrequest.v1",
      runs_on: "farm-x86",
      callback_url: "https://relay.example/relay/v1/callback",
    });
    const claims = await verifyRelayToken(entry.fields.callback_token, [SECRET]);
    expect(claims).toMatchObject({ sub: "farm/gate", jti: "req-single", delivery: "delivery-1", level: "L4", pr: 7 });
    expect((await readDispatch(store, "req-single"))?.state).toBe("dispatched");
    expect(await store.get(keys.jobRequests.maxDeliveries("Farm/Gate"))).toBe("3");
  });

  it("appends one request per declared job, once, however often the task is retried", async () => {
    const record = queueDispatch({ requestId: "req-multi", downstream: "farm/multi", level: "L2" });
    await store.write(recordDispatchOps(record));
    await handler.run(task(record));
    // A retry after the entries were appended but before the dispatch was marked sent (a crash):
    await store.write(recordDispatchOps(record));
    await handler.run(task(record));
    await handler.run(task(record));

    const entries = await entriesOf("req-multi");
    expect(entries.map((e) => [e.fields.job_id, e.fields.runs_on])).toEqual([
      ["build", "x86"],
      ["test", "gpu"],
    ]);
  });

  it("gives up on a dispatch whose downstream left the queue transport, visibly", async () => {
    const record = queueDispatch({ requestId: "req-gone", downstream: "gone/away" });
    await store.write(recordDispatchOps(record));
    await handler.run(task(record));
    expect(await entriesOf("req-gone")).toHaveLength(0);
    expect(await readDispatch(store, "req-gone")).toMatchObject({
      state: "failed",
      lastError: "no longer a queue downstream in the relay config",
    });
  });
});
