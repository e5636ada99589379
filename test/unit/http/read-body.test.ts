import type { IncomingMessage } from "node:http";
import { PassThrough } from "node:stream";
import { RelayError } from "../../../src/errors/failure-kinds";
import { readBody } from "../../../src/http/read-body";

/** A request whose body arrives as the test writes it. */
function streamed(headers: Record<string, string> = {}) {
  const body = new PassThrough();
  return { body, request: Object.assign(body, { headers }) as unknown as IncomingMessage };
}

describe("readBody", () => {
  it("reads a body that arrives in several chunks", async () => {
    const { body, request } = streamed();
    const read = readBody(request, 10);
    body.write('{"a":');
    body.end("1}");
    expect((await read).toString()).toBe('{"a":1}');
  });

  it("refuses a declared length over the limit without reading", async () => {
    const { request } = streamed({ "content-length": "11" });
    await expect(readBody(request, 10)).rejects.toMatchObject({ kind: "payload-too-large" });
  });

  it("refuses a streamed body once it passes the limit, and drains the rest", async () => {
    const { body, request } = streamed();
    const read = readBody(request, 10);
    body.write("0123456789");
    body.write("x");
    await expect(read).rejects.toBeInstanceOf(RelayError);
    await expect(read).rejects.toMatchObject({ kind: "payload-too-large" });
    const ended = new Promise((done) => body.once("end", done));
    body.end("y".repeat(100_000));
    await ended;
  });

  it("fails a body broken off before its end", async () => {
    const { body, request } = streamed();
    const read = readBody(request, 10);
    body.write("{");
    body.destroy();
    await expect(read).rejects.toThrow();
  });

  it("fails a request broken off before it was read", async () => {
    const { body, request } = streamed();
    body.destroy();
    await expect(readBody(request, 10)).rejects.toThrow();
  });
});
