import { Writable } from "node:stream";
import Redis from "ioredis";
import pino from "pino";
import { LOG_REDACTION } from "../../src/create-probot";
import { testRedisUrl, uniqueRedisPrefix } from "../support/redis-prefix";

describe("log redaction", () => {
  it("keeps a failed Redis command's arguments (a stored webhook body) out of the log", async () => {
    const redis = new Redis(testRedisUrl(), { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
    let error: unknown;
    try {
      // A real ReplyError as ioredis builds it: the command and its arguments attached.
      await redis.call(
        "HSET",
        `${uniqueRedisPrefix()}k`,
        "only-a-field-no-value",
        '{"secret":"webhook body"}',
        "dangling",
      );
    } catch (caught) {
      error = caught;
    } finally {
      redis.disconnect();
    }
    expect((error as { command?: { args?: unknown[] } }).command?.args).toContain('{"secret":"webhook body"}');

    const lines: string[] = [];
    const sink = new Writable({ write: (chunk: Buffer, _encoding, done) => done(void lines.push(chunk.toString())) });
    pino({ redact: LOG_REDACTION }, sink).error({ err: error }, "could not store the delivery");
    expect(lines.join("")).toContain("could not store the delivery");
    expect(lines.join("")).not.toContain("webhook body");
  });
});
