import pino from "pino";
import type { AppGitHub } from "../../../src/github/app-github";
import { createMetrics } from "../../../src/metrics/metrics";
import { classifyFailure } from "../../../src/outbox/classify-failure";
import type { Task } from "../../../src/outbox/outbox";
import { enqueueJobTask } from "../../../src/queue/enqueue-job-task";
import { dispatchTask } from "../../../src/relay/dispatch-task";
import { MemoryStore } from "../../../src/store/memory-store";

const task: Task<"dispatch"> = {
  id: "t",
  kind: "dispatch",
  data: { requestId: "r" },
  createdAt: 0,
  attempts: 0,
  lastError: null,
};
const queueTask: Task<"enqueue-job"> = { ...task, kind: "enqueue-job" };
const failure = classifyFailure(Object.assign(new Error("HTTP 502"), { status: 502 }), 0);

describe("ci_relay_dispatches_total emits every outcome its HELP text names", () => {
  test("a dispatch or queue task scheduled for a retry counts as retried", async () => {
    const metrics = createMetrics();
    const deps = {
      store: new MemoryStore(),
      metrics,
      log: pino({ level: "silent" }),
      publicUrl: "http://relay.test",
      relayTokenSecrets: [],
    };
    const next = { attempts: 1, nextAttemptAt: 1_000 };
    await dispatchTask({ ...deps, github: {} as AppGitHub }).retrying?.(task, failure, next);
    await enqueueJobTask({ ...deps, config: { get: async () => null }, webBaseUrl: "https://github.com" }).retrying?.(
      queueTask,
      failure,
      next,
    );
    const help = (metrics.dispatches as unknown as { help: string }).help;
    for (const outcome of ["sent", "retried", "given_up", "superseded"]) expect(help).toContain(outcome);
    const text = await metrics.registry.metrics();
    expect(text).toContain('ci_relay_dispatches_total{transport="dispatch",outcome="retried"} 1');
    expect(text).toContain('ci_relay_dispatches_total{transport="queue",outcome="retried"} 1');
  });
});
