import { expect } from "@jest/globals";
import { EventEmitter } from "node:events";
import type { IncomingMessage, ServerResponse } from "node:http";
import pino from "pino";
import { logRequests } from "../../../src/http/log-requests";

/** A request and its answer as the Node server hands them over, the answer closing on `close()`. */
function exchange(headers: Record<string, string>) {
  const request = {
    method: "POST",
    url: "/api/github/webhooks",
    headers,
    socket: { remoteAddress: "127.0.0.1", remotePort: 40_000 },
  } as unknown as IncomingMessage;
  const response = Object.assign(new EventEmitter(), {
    statusCode: 202,
    getHeaders: () => ({ "content-type": "application/json; charset=utf-8" }),
  });
  return { request, response: response as unknown as ServerResponse, close: () => response.emit("close") };
}

function logger(level: string) {
  const lines: string[] = [];
  return { lines, log: pino({ level, messageKey: "msg" }, { write: (line: string) => void lines.push(line) }) };
}

describe("logRequests", () => {
  it("writes one line when the answer closes: method, URL, status, time, the delivery's id, redacted headers", () => {
    const { lines, log } = logger("info");
    const { request, response, close } = exchange({
      "x-github-delivery": "delivery-1",
      "x-hub-signature-256": "sha256=feedface",
      authorization: "Bearer secret-token",
      cookie: "session=secret-cookie",
      "user-agent": "GitHub-Hookshot/abc",
    });
    logRequests(log)(request, response);
    expect(lines).toEqual([]);
    close();
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toMatchObject({
      level: 30,
      msg: "POST /api/github/webhooks 202",
      req: {
        id: "delivery-1",
        method: "POST",
        url: "/api/github/webhooks",
        remoteAddress: "127.0.0.1",
        headers: {
          "x-hub-signature-256": "[redacted]",
          authorization: "[redacted]",
          cookie: "[redacted]",
          "user-agent": "GitHub-Hookshot/abc",
        },
      },
      res: { statusCode: 202, headers: { "content-type": "application/json; charset=utf-8" } },
      responseTime: expect.any(Number),
    });
    expect(lines[0]).not.toMatch(/feedface|secret-token|secret-cookie/);
  });

  it("gives a request without a delivery id a fresh one", () => {
    const { lines, log } = logger("info");
    const { request, response, close } = exchange({});
    logRequests(log)(request, response);
    close();
    expect(JSON.parse(lines[0])).toMatchObject({ req: { id: expect.stringMatching(/^[0-9a-f-]{36}$/) } });
  });

  it("writes nothing, and waits for nothing, below the info level", () => {
    const { lines, log } = logger("warn");
    const { request, response, close } = exchange({ "x-github-delivery": "delivery-2" });
    logRequests(log)(request, response);
    expect(response.listenerCount("close")).toBe(0);
    close();
    expect(lines).toEqual([]);
  });
});
