import { EnvError } from "../../../src/config/env";
import { requireRedisForQueue } from "../../../src/queue/require-redis-for-queue";
import { downstream } from "../../support/relay-config";

describe("requireRedisForQueue", () => {
  const queued = {
    downstreams: [downstream({ repo: "vendor/backend" }), downstream({ repo: "Farm/Gate", transport: "queue" })],
  };

  it("refuses queue downstreams on the memory store, naming REDIS_URL and the downstream", () => {
    expect(() => requireRedisForQueue(queued, { kind: "memory" })).toThrow(EnvError);
    expect(() => requireRedisForQueue(queued, { kind: "memory" })).toThrow(
      "REDIS_URL: required because downstream Farm/Gate uses transport: queue",
    );
  });

  it("accepts them on Redis, and dispatch-only configs on memory", () => {
    expect(() => requireRedisForQueue(queued, { kind: "redis" })).not.toThrow();
    expect(() =>
      requireRedisForQueue({ downstreams: [downstream({ repo: "vendor/backend" })] }, { kind: "memory" }),
    ).not.toThrow();
  });
});
