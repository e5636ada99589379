import pino from "pino";
import { createMetrics } from "../../../src/metrics/metrics";
import { Outbox } from "../../../src/outbox/outbox";
import { OutboxRunner } from "../../../src/outbox/outbox-runner";
import { MemoryStore } from "../../../src/store/memory-store";
import { handlersFor } from "../../support/task-handlers";

/** On Lambda nothing may run after an invocation answers: a kick leaves the work to the handler's drain. */
describe("an outbox runner without background work", () => {
  function setUp(background: boolean) {
    const outbox = new Outbox(new MemoryStore());
    const ran: string[] = [];
    const runner = new OutboxRunner({
      outbox,
      handlers: handlersFor({ dispatch: { run: async (task) => void ran.push(task.id) } }),
      log: pino({ level: "silent" }),
      metrics: createMetrics(),
      concurrency: 4,
      leaseMs: 60_000,
      giveUpAfterMs: 3_600_000,
      background,
    });
    return { outbox, runner, ran };
  }

  it("runs nothing on kick, and everything when the handler drains", async () => {
    const { outbox, runner, ran } = setUp(false);
    await outbox.enqueue({ id: "a", kind: "dispatch", data: { requestId: "r" } }, Date.now());
    runner.kick();
    await runner.stop();
    expect(ran).toEqual([]);
    expect(await runner.drain(Date.now() + 1_000)).toBe(1);
    expect(ran).toEqual(["a"]);
  });

  it("still runs work on kick in a long-lived server", async () => {
    const { outbox, runner, ran } = setUp(true);
    await outbox.enqueue({ id: "a", kind: "dispatch", data: { requestId: "r" } }, Date.now());
    runner.kick();
    await runner.stop();
    expect(ran).toEqual(["a"]);
  });
});
