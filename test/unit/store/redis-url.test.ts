import { parseRedisUrl } from "../../../src/store/redis-url";

describe("parseRedisUrl", () => {
  it("reads host, port and database, with Redis's defaults", () => {
    expect(parseRedisUrl("redis://cache.internal")).toEqual({ host: "cache.internal", port: "6379", db: "0" });
    expect(parseRedisUrl("rediss://:pw@cache.internal:6380/3")).toEqual({
      host: "cache.internal",
      port: "6380",
      db: "3",
    });
  });

  it("keeps no password: what it returns may be logged", () => {
    expect(JSON.stringify(parseRedisUrl("redis://user:s3cret-pass@cache.internal:6379/0"))).not.toContain(
      "s3cret-pass",
    );
  });

  it.each(["http://cache.internal:6379", "cache.internal:6379", "", "redis//cache"])(
    "%j is not a Redis URL",
    (value) => {
      expect(parseRedisUrl(value)).toBeNull();
    },
  );
});
