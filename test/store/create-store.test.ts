import { expect } from "@jest/globals";
import { createStore } from "../../src/store/create-store";
import type { StoreLog } from "../../src/store/redis-store";

const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

function capturingLog(): StoreLog & { records: { level: string; fields: object; msg: string }[] } {
  const records: { level: string; fields: object; msg: string }[] = [];
  return {
    records,
    info: (fields, msg) => records.push({ level: "info", fields, msg }),
    warn: (fields, msg) => records.push({ level: "warn", fields, msg }),
  };
}

test("without REDIS_URL the memory store is used, with one warning that it is single-process only", async () => {
  const log = capturingLog();
  const store = createStore({ log });
  expect(store.kind).toBe("memory");
  expect(log.records).toEqual([
    { level: "warn", fields: expect.anything(), msg: expect.stringMatching(/single process/) },
  ]);
  await store.close();
});

test("with REDIS_URL the Redis store is used and reaches Redis", async () => {
  const log = capturingLog();
  const store = createStore({ redisUrl: REDIS_URL, prefix: "ci-relay-test:create-store:", log });
  expect(store.kind).toBe("redis");
  expect(await store.ping()).toBe(true);
  expect(log.records.filter((record) => record.level === "warn")).toEqual([]);
  await store.close();
});

test("the Redis password never reaches the log, not even when Redis is down", async () => {
  const log = capturingLog();
  const store = createStore({ redisUrl: "redis://relay:s3cret-pass@127.0.0.1:1/2", log });
  expect(await store.ping()).toBe(false);
  await store.close();
  expect(log.records).toContainEqual({
    level: "info",
    fields: expect.objectContaining({ host: "127.0.0.1", port: "1", db: "2" }),
    msg: expect.any(String),
  });
  expect(log.records).toContainEqual({
    level: "warn",
    fields: expect.anything(),
    msg: expect.stringMatching(/unreachable/),
  });
  expect(JSON.stringify(log.records)).not.toContain("s3cret-pass");
});
