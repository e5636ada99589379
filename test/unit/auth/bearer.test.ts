import { createServer, type IncomingHttpHeaders } from "node:http";
import { connect, type AddressInfo } from "node:net";
import { expect } from "@jest/globals";
import { extractBearer } from "../../../src/auth/bearer";
import { RelayError } from "../../../src/errors/failure-kinds";
import { expectRejection } from "./expect-rejection";

/** A request as Node hands it over: every header line in rawHeaders. */
function nodeRequest(...lines: [string, string][]) {
  const headers: IncomingHttpHeaders = {};
  for (const [name, value] of lines) headers[name.toLowerCase()] ??= value;
  return { headers, rawHeaders: lines.flat() };
}

/** Runs the extraction so that a refusal arrives as a rejected promise. */
const extracting = (request: Parameters<typeof extractBearer>[0]) =>
  Promise.resolve().then(() => extractBearer(request));

const jwt = "eyJhbGciOiJSUzI1NiJ9.eyJyZXBvc2l0b3J5Ijoib2N0by1vcmcvZG93bnN0cmVhbSJ9.c2lnbmF0dXJl";

describe("bearer extraction", () => {
  test("returns the token of a single Bearer header, whatever the scheme's case", () => {
    expect(extractBearer(nodeRequest(["Authorization", `Bearer ${jwt}`]))).toBe(jwt);
    expect(extractBearer(nodeRequest(["authorization", `bearer ${jwt}`]))).toBe(jwt);
  });

  test("reads headers when there are no raw headers (Lambda via serverless-http)", () => {
    expect(extractBearer({ headers: { authorization: `Bearer ${jwt}` }, rawHeaders: [] })).toBe(jwt);
  });

  test.each([
    ["no Authorization header", [] as [string, string][], "bearer-missing"],
    ["another scheme", [["Authorization", "Basic dXNlcjpwYXNz"]] as [string, string][], "bearer-unusable"],
    ["an empty token", [["Authorization", "Bearer "]] as [string, string][], "bearer-unusable"],
    ["the scheme alone", [["Authorization", "Bearer"]] as [string, string][], "bearer-unusable"],
    ["a token with spaces", [["Authorization", `Bearer ${jwt} extra`]] as [string, string][], "bearer-unusable"],
    [
      "two Authorization lines",
      [
        ["Authorization", `Bearer ${jwt}`],
        ["authorization", "Bearer other"],
      ] as [string, string][],
      "bearer-duplicated",
    ],
  ])("refuses %s as unauthorized-caller", async (_case, lines, reason) => {
    await expectRejection(extracting(nodeRequest(...lines)), "unauthorized-caller", reason, jwt);
  });

  test("accepts a token of exactly 8 KiB and refuses one byte more", async () => {
    const limit = "a".repeat(8 * 1024);
    const over = `${limit}a`;

    expect(extractBearer(nodeRequest(["Authorization", `Bearer ${limit}`]))).toBe(limit);
    await expectRejection(
      extracting(nodeRequest(["Authorization", `Bearer ${over}`])),
      "unauthorized-caller",
      "bearer-too-large",
      over,
    );
  });

  test("a second Authorization header sent over HTTP is seen although Node's headers keep only one", async () => {
    const seen: { headers: IncomingHttpHeaders; outcome: string }[] = [];
    const server = createServer((request, response) => {
      let outcome: string;
      try {
        outcome = extractBearer(request);
      } catch (error) {
        outcome = error instanceof RelayError ? error.degradedReason : "unexpected";
      }
      seen.push({ headers: request.headers, outcome });
      response.end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    try {
      // Raw bytes: Node's own client will not send two Authorization lines.
      await new Promise<void>((resolve, reject) => {
        const socket = connect(port, "127.0.0.1", () => {
          socket.write(
            `GET / HTTP/1.1\r\nHost: relay\r\nAuthorization: Bearer ${jwt}\r\nAuthorization: Bearer other\r\nConnection: close\r\n\r\n`,
          );
        });
        socket
          .on("error", reject)
          .on("close", () => resolve())
          .resume();
      });
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }

    expect(seen).toEqual([
      { headers: expect.objectContaining({ authorization: `Bearer ${jwt}` }), outcome: "bearer-duplicated" },
    ]);
  });
});
