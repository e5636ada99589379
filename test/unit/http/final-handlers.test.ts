import type { AddressInfo } from "node:net";
import express from "express";
import pino from "pino";
import { finalHandlers } from "../../../src/http/final-handlers";
import { relayErrorOf } from "../../../src/http/relay-error-of";

describe("finalHandlers", () => {
  const logged: string[] = [];
  const log = pino({ level: "error" }, { write: (line: string) => void logged.push(line) });
  const app = express();
  app.get("/bug", () => {
    throw Object.assign(new TypeError("Cannot read properties of undefined"), {
      request: { headers: { authorization: "Bearer secret-token" } },
    });
  });
  app.get("/refused", () => {
    throw Object.assign(new Error("too big for this route"), { status: 413 });
  });
  app.use(finalHandlers(log));
  let server: ReturnType<typeof app.listen>;
  let base: string;
  beforeAll(async () => {
    server = app.listen(0, "127.0.0.1");
    await new Promise((done) => server.once("listening", done));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((done) => server.close(done)));

  it("answers an error nobody foresaw with a retryable §5 503, logging its message but not what it carries", async () => {
    const response = await fetch(`${base}/bug`);
    const text = await response.text();
    expect(response.status).toBe(503);
    expect(JSON.parse(text)).toMatchObject({ ok: false, failureKind: "store-unavailable", retryable: true });
    expect(text).not.toMatch(/TypeError|Cannot read|at /);
    expect(logged.join("")).toContain("Cannot read properties of undefined");
    expect(logged.join("")).not.toContain("secret-token");
  });

  it("answers an error with an HTTP status as that status's kind", async () => {
    const response = await fetch(`${base}/refused`);
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({
      failureKind: "payload-too-large",
      message: "too big for this route",
    });
  });

  it("answers a path no route serves with a JSON 404", async () => {
    const response = await fetch(`${base}/nowhere`, { method: "DELETE" });
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({
      ok: false,
      failureKind: "route-not-found",
      message: "no route for DELETE /nowhere",
    });
  });
});

describe("relayErrorOf", () => {
  it("knows the statuses SPEC §5 has a kind for, and nothing else", () => {
    expect(relayErrorOf({ status: 400, message: "bad" })?.kind).toBe("validation-failed");
    expect(relayErrorOf({ statusCode: 503 })?.kind).toBe("store-unavailable");
    expect(relayErrorOf({ status: 500 })).toBeNull();
    expect(relayErrorOf(new Error("plain"))).toBeNull();
    expect(relayErrorOf("a string")).toBeNull();
  });
});
