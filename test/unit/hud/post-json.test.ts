import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { postJson } from "../../../src/hud/post-json";
import { classifyFailure } from "../../../src/outbox/classify-failure";

interface Received {
  method?: string;
  headers: IncomingMessage["headers"];
  body: string;
}

describe("posting JSON with node's client", () => {
  let server: Server;
  let url: string;
  const received: Received[] = [];
  let answer: { status: number; headers: Record<string, string>; hold?: boolean } = {
    status: 201,
    headers: {},
  };

  beforeAll(async () => {
    server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        received.push({ method: request.method, headers: request.headers, body: Buffer.concat(chunks).toString() });
        if (answer.hold) return;
        const port = (server.address() as AddressInfo).port;
        const moved: Record<string, string> = {
          "/old": "/api/crcr/results",
          "/away": `http://localhost:${port}/api/crcr/results`,
        };
        const location = moved[request.url ?? ""];
        if (location) response.writeHead(308, { location }).end();
        else response.writeHead(answer.status, answer.headers).end('{"ok":true}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/crcr/results`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => {
    received.length = 0;
    answer = { status: 201, headers: {} };
  });

  test("follows a 307/308 on the same host with the same POST, and takes one to another host as the answer", async () => {
    const base = url.replace("/api/crcr/results", "");
    const body = '{"n":1}';
    const moved = await postJson(`${base}/old`, body, { "x-hud-internal-bot": "token" }, AbortSignal.timeout(30_000));
    expect(moved.status).toBe(201);
    expect(received.map((r) => [r.method, r.body, r.headers["x-hud-internal-bot"]])).toEqual([
      ["POST", body, "token"],
      ["POST", body, "token"],
    ]);
    received.length = 0;
    const away = await postJson(`${base}/away`, body, { "x-hud-internal-bot": "token" }, AbortSignal.timeout(30_000));
    expect(away.status).toBe(308);
    expect(received).toHaveLength(1); // the credentials never went to the other host
  });

  test("sends the body as JSON with the given headers, and answers the status and headers", async () => {
    answer = { status: 503, headers: { "retry-after": "7" } };
    const body = JSON.stringify({ trusted: { verified_repo: "o/r" }, note: "ünïcode" });
    const got = await postJson(url, body, { "x-hud-internal-bot": "token" }, AbortSignal.timeout(30_000));
    expect(got.status).toBe(503);
    expect(got.headers["retry-after"]).toBe("7");
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({
      method: "POST",
      headers: {
        "content-type": "application/json",
        "content-length": String(Buffer.byteLength(body)),
        "x-hud-internal-bot": "token",
      },
      body,
    });
  });

  test("an abort while the far side holds the answer rejects, and reads as a retryable timeout", async () => {
    answer = { status: 201, headers: {}, hold: true };
    const controller = new AbortController();
    const posted = postJson(url, "{}", {}, controller.signal);
    const deadline = Date.now() + 30_000;
    while (received.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    controller.abort();
    const failure = await posted.catch((error: unknown) => error);
    expect(failure).toMatchObject({ name: "AbortError" });
    expect(classifyFailure(failure, 0)).toMatchObject({ retryable: true, summary: "timed out" });
  });

  test("a refused connection rejects with a retryable network failure", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const failure = await postJson(`http://127.0.0.1:${port}/`, "{}", {}, AbortSignal.timeout(30_000)).catch(
      (error: unknown) => error,
    );
    expect(classifyFailure(failure, 0)).toMatchObject({ retryable: true });
  });
});
