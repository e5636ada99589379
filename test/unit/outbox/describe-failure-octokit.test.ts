import { execFile } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { promisify } from "node:util";
import { RequestError } from "@octokit/request-error";
import { describeFailure } from "../../../src/outbox/describe-failure";

/**
 * describeFailure against what Octokit really throws, not hand-made shapes: real sockets that are
 * refused, reset, never answered, and a name that cannot resolve (`.invalid` is reserved for that).
 * The request runs in a plain node process: inside Jest's sandbox undici's errors come from another
 * realm, Octokit's `cause instanceof Error` fails and the cause's words are lost, which is not what
 * the relay sees. Octokit's error keeps only name, status and message (and the request): those
 * cross back, and the same RequestError is built from them here.
 */
const CHILD = `
const { ProbotOctokit } = require("probot");
const octokit = new ProbotOctokit({ baseUrl: process.env.BASE_URL, retry: { enabled: false }, throttle: { enabled: false },
  request: { signal: AbortSignal.timeout(Number(process.env.TIMEOUT_MS)) } });
octokit.request("GET /repos/{owner}/{repo}/installation", { owner: "o", repo: "r" }).then(
  () => console.log(JSON.stringify({ ok: true })),
  (e) => console.log(JSON.stringify({ name: e.name, status: e.status, message: e.message, response: e.response && { status: e.response.status, headers: e.response.headers } })),
);`;

async function failureOf(baseUrl: string, timeoutMs = 5_000): Promise<unknown> {
  const { stdout } = await promisify(execFile)(process.execPath, ["-e", CHILD], {
    env: { ...process.env, BASE_URL: baseUrl, TIMEOUT_MS: String(timeoutMs) },
    cwd: process.cwd(),
  });
  const seen = JSON.parse(stdout) as {
    name: string;
    status: number;
    message: string;
    response?: { status: number; headers: Record<string, string> };
  };
  if (seen.name !== "HttpError") return Object.assign(new Error(seen.message), { name: seen.name });
  const request = { method: "GET" as const, url: `${baseUrl}/repos/o/r/installation`, headers: {} };
  return new RequestError(seen.message, seen.status, {
    request,
    ...(seen.response ? { response: { ...seen.response, url: request.url, data: {} } } : {}),
  });
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe("describeFailure on Octokit's own errors", () => {
  const servers: Server[] = [];
  afterAll(async () => {
    for (const server of servers) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("an unresolvable host is a DNS failure", async () => {
    expect(describeFailure(await failureOf("http://github.invalid"))).toBe(
      "DNS failure: could not resolve github.invalid",
    );
  });

  it("a closed port is connection refused", async () => {
    const server = createServer();
    const url = await listen(server);
    await new Promise((resolve) => server.close(resolve));
    expect(describeFailure(await failureOf(url))).toBe("connection refused");
  });

  it("a server that drops the connection is connection reset", async () => {
    const server = createServer((request) => request.socket.destroy());
    servers.push(server);
    expect(describeFailure(await failureOf(await listen(server)))).toBe("connection reset");
  });

  it("a server that never answers is timed out", async () => {
    const server = createServer(() => undefined);
    servers.push(server);
    expect(describeFailure(await failureOf(await listen(server), 300))).toBe("timed out");
  });

  it("a 502 is HTTP 502 from GitHub", async () => {
    const server = createServer((_request, response) =>
      response.writeHead(502, { "content-type": "application/json" }).end('{"message":"Bad Gateway"}'),
    );
    servers.push(server);
    expect(describeFailure(await failureOf(await listen(server)))).toBe("HTTP 502 from GitHub");
  });
});
