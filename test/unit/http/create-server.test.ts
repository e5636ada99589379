import { expect } from "@jest/globals";
import { request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import express from "express";
import pino from "pino";
import { Probot } from "probot";
import { createServer, WEBHOOK_PATH } from "../../../src/http/create-server";
import { WEBHOOK_MAX_BYTES } from "../../../src/http/webhook-intake/check-webhook-body";
import { TEST_APP_ID } from "../../support/app-key";
import { sign, TEST_WEBHOOK_SECRET } from "../../support/webhooks";

interface LogLine {
  name?: string;
  msg: string;
  req: { id: string; method: string; url: string; headers: Record<string, string> };
  res: { statusCode: number };
  responseTime: number;
}

/** A server as main.ts builds it, with a /relay route, logging at `level` into `lines`. */
async function serve(level: string) {
  const lines: string[] = [];
  const log = pino({ level, messageKey: "msg" }, { write: (line: string) => void lines.push(line) });
  // Probot verifies and routes; its App credentials are never used here (no handler calls GitHub).
  const probot = new Probot({ appId: TEST_APP_ID, privateKey: "unused", secret: TEST_WEBHOOK_SECRET, log });
  const received: string[] = [];
  probot.webhooks.on("push", ({ id }) => void received.push(id));
  const relayRoutes = express.Router().get("/v1/ping", (_request, response) => void response.json({ ok: true }));
  const server: Server = createServer(probot, relayRoutes, log).listen(0, "127.0.0.1");
  await new Promise((done) => server.once("listening", done));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const requestLines = () =>
    lines.map((line) => JSON.parse(line) as LogLine).filter((line) => line.name === "http" && line.req);
  return { base, received, requestLines, close: () => new Promise((done) => server.close(done)) };
}

const body = '{"ref":"refs/heads/main"}';
const signature = sign(body, TEST_WEBHOOK_SECRET);
const postWebhook = (base: string, deliveryId: string, path = WEBHOOK_PATH) =>
  fetch(`${base}${path}`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-github-event": "push",
      "x-github-delivery": deliveryId,
      "x-hub-signature-256": signature,
      authorization: "Bearer a-secret-token",
    },
    body,
  });

/** Polls for the request lines: each is written once its answer has closed, just after the client has it. */
async function linesOf(server: Awaited<ReturnType<typeof serve>>, count: number): Promise<LogLine[]> {
  for (let waited = 0; waited < 30_000 && server.requestLines().length < count; waited += 10)
    await new Promise((done) => setTimeout(done, 10));
  return server.requestLines();
}

describe("createServer", () => {
  let server: Awaited<ReturnType<typeof serve>>;
  beforeAll(async () => {
    server = await serve("info");
  });
  afterAll(() => server.close());

  it("hands a signed webhook to Probot and answers it as SPEC §5 JSON", async () => {
    const response = await postWebhook(server.base, "delivery-ok");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(await response.json()).toEqual({ ok: true, requestId: "delivery-ok" });
    expect(server.received).toContain("delivery-ok");
  });

  it("logs one line per request under the delivery's id, with the signature and authorization redacted", async () => {
    const before = server.requestLines().length;
    await (await postWebhook(server.base, "delivery-logged")).text();
    const [line, ...more] = (await linesOf(server, before + 1)).slice(before);
    expect(more).toEqual([]);
    expect(line).toMatchObject({
      msg: `POST ${WEBHOOK_PATH} 200`,
      req: {
        id: "delivery-logged",
        method: "POST",
        url: WEBHOOK_PATH,
        headers: { "x-hub-signature-256": "[redacted]", authorization: "[redacted]", "x-github-event": "push" },
      },
      res: { statusCode: 200 },
      responseTime: expect.any(Number),
    });
    const text = JSON.stringify(server.requestLines());
    expect(text).not.toContain(signature.slice(7));
    expect(text).not.toContain("a-secret-token");
  });

  it("logs the URL a /relay request asked for, under a fresh id", async () => {
    const before = server.requestLines().length;
    const response = await fetch(`${server.base}/relay/v1/ping?probe=1`);
    expect(response.status).toBe(200);
    const [line] = (await linesOf(server, before + 1)).slice(before);
    expect(line).toMatchObject({
      msg: "GET /relay/v1/ping?probe=1 200",
      req: { id: expect.stringMatching(/^[0-9a-f-]{36}$/), url: "/relay/v1/ping?probe=1" },
    });
  });

  it("serves the webhook path whatever the query, and leaves every other request to Express", async () => {
    const withQuery = await postWebhook(server.base, "delivery-query", `${WEBHOOK_PATH}?source=smee`);
    const get = await fetch(`${server.base}${WEBHOOK_PATH}`);
    const elsewhere = await postWebhook(server.base, "delivery-elsewhere", `${WEBHOOK_PATH}/more`);
    // As the Express route it was matched: one trailing slash and other capitals are the same path.
    const slash = await postWebhook(server.base, "delivery-slash", `${WEBHOOK_PATH}/?source=app`);
    const capitals = await postWebhook(server.base, "delivery-capitals", WEBHOOK_PATH.toUpperCase());
    expect([withQuery.status, get.status, elsewhere.status, slash.status, capitals.status]).toEqual([
      200, 404, 404, 200, 200,
    ]);
    expect(await get.json()).toMatchObject({ ok: false, failureKind: "route-not-found" });
    expect(server.received).toEqual(expect.arrayContaining(["delivery-query", "delivery-slash", "delivery-capitals"]));
    expect(server.received).not.toContain("delivery-elsewhere");
  });

  it("refuses a webhook declaring more than the limit with a §5 413, unread", async () => {
    const answer = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const request = httpRequest(`${server.base}${WEBHOOK_PATH}`, {
        method: "POST",
        headers: { "content-type": "application/json", "content-length": WEBHOOK_MAX_BYTES + 1 },
      });
      request.on("error", reject);
      request.on("response", (response) => {
        let text = "";
        response.on("data", (chunk: Buffer) => (text += chunk.toString()));
        response.on("end", () => {
          resolve({ status: response.statusCode ?? 0, text });
          request.destroy();
        });
      });
      request.flushHeaders();
    });
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.text)).toMatchObject({ ok: false, failureKind: "payload-too-large" });
  });
});
