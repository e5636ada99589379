import { RequestError } from "@octokit/request-error";
import pino from "pino";
import { createMetrics } from "../../../src/metrics/metrics";
import { Outbox } from "../../../src/outbox/outbox";
import { OutboxRunner } from "../../../src/outbox/outbox-runner";
import { givenUp, recordRetry } from "../../../src/relay/dispatch-task";
import { MemoryStore } from "../../../src/store/memory-store";
import { handlersFor } from "../../support/task-handlers";
import { dispatchRecord } from "../../support/dispatch-fixtures";
import { readDispatch, recordDispatchOps, updateDispatch } from "../../../src/records/dispatches";

const dnsFailure = () =>
  new RequestError("getaddrinfo ENOTFOUND github.invalid", 500, {
    request: { method: "POST", url: "http://github.invalid/", headers: {} },
  });

describe("a dispatch record while the outbox retries its task", () => {
  it("holds the attempts, the last error in plain words and the next try, then when and why it was given up", async () => {
    let now = 1_800_000_000_000;
    const store = new MemoryStore({ now: () => now });
    const outbox = new Outbox(store);
    const runner = new OutboxRunner({
      outbox,
      handlers: handlersFor({
        dispatch: {
          run: async () => Promise.reject(dnsFailure()),
          retrying: (task, failure, next) => recordRetry(store, task, failure, next),
          giveUp: (task, failure) => updateDispatch(store, task.data.requestId, givenUp(task, failure, now)),
        },
      }),
      log: pino({ level: "silent" }),
      metrics: createMetrics(),
      concurrency: 1,
      leaseMs: 60_000,
      giveUpAfterMs: 600_000,
      now: () => now,
    });
    await store.write(
      recordDispatchOps(dispatchRecord({ requestId: "r", state: "pending", createdAt: now, dispatchedAt: null })),
    );
    await outbox.enqueue({ id: "t", kind: "dispatch", data: { requestId: "r" } }, now);

    await runner.drain();
    const first = await readDispatch(store, "r");
    expect(first).toMatchObject({
      state: "pending",
      attempts: 1,
      lastError: "DNS failure: could not resolve github.invalid",
    });
    expect(first?.nextAttemptAt).toBeGreaterThan(now);

    now = (first?.nextAttemptAt ?? now) + 1;
    await runner.drain();
    expect(await readDispatch(store, "r")).toMatchObject({ state: "pending", attempts: 2 });

    now += 600_000; // past the horizon: the next failure gives up
    await runner.drain();
    expect(await readDispatch(store, "r")).toMatchObject({
      state: "failed",
      attempts: 3,
      nextAttemptAt: null,
      failedAt: now,
      lastError: "DNS failure: could not resolve github.invalid",
    });
  });
});
