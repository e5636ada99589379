import { EventEmitter } from "node:events";
import type Redis from "ioredis";
import { reportRedisOutages } from "../../src/store/report-redis-outages";

describe("reportRedisOutages", () => {
  function setUp() {
    const client = new EventEmitter();
    const lines: string[] = [];
    const log = {
      warn: (_fields: object, msg: string) => void lines.push(`warn ${msg}`),
      info: (_fields: object, msg: string) => void lines.push(`info ${msg}`),
    };
    const outages = reportRedisOutages(client as unknown as Redis, log, "store operations fail until it is back");
    return { client, lines, outages };
  }

  it("says one line when Redis goes, however many reconnects fail, and one when it is back", () => {
    const { client, lines, outages } = setUp();
    client.emit("ready");
    expect(outages.down()).toBe(false);
    client.emit("close");
    for (let i = 0; i < 78; i++) client.emit("error", new Error("connect ECONNREFUSED 127.0.0.1:6379"));
    expect(outages.down()).toBe(true);
    client.emit("ready");
    expect(outages.down()).toBe(false);
    expect(lines).toEqual([
      "warn Redis unreachable; store operations fail until it is back",
      "info Redis reachable again",
    ]);
  });

  it("says nothing for a blip that reconnects at once, and counts it as down meanwhile", () => {
    const { client, lines, outages } = setUp();
    client.emit("close");
    expect(outages.down()).toBe(true);
    client.emit("ready");
    expect(outages.down()).toBe(false);
    expect(lines).toEqual([]);
  });
});
