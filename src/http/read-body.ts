import type { IncomingMessage } from "node:http";
import { finished } from "node:stream";
import { RelayError } from "../errors/failure-kinds";

/**
 * Reads a request body up to `limitBytes`, refusing more without buffering it (413). Works for Node
 * requests and for serverless-http's, which arrive with the body already attached.
 */
export async function readBody(request: IncomingMessage & { body?: unknown }, limitBytes: number): Promise<Buffer> {
  const declared = Number(request.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limitBytes) throw tooLarge(limitBytes);
  if (Buffer.isBuffer(request.body)) {
    if (request.body.length > limitBytes) throw tooLarge(limitBytes);
    return request.body;
  }
  if (typeof request.body === "string") {
    const buffer = Buffer.from(request.body, "utf8");
    if (buffer.length > limitBytes) throw tooLarge(limitBytes);
    return buffer;
  }
  return readStream(request, limitBytes);
}

/** Listeners rather than `for await`: the async iterator's machinery cost more than the read, per delivery. */
function readStream(request: IncomingMessage, limitBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limitBytes) {
        chunks.push(chunk);
        return;
      }
      request.off("data", onData);
      request.resume(); // drain the rest so the connection can answer
      reject(tooLarge(limitBytes));
    };
    request.on("data", onData);
    // Also settles for a request broken off before or while it is read (a no-op after a 413).
    finished(request, (error) =>
      error ? reject(error) : resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size)),
    );
  });
}

function tooLarge(limitBytes: number): RelayError {
  return new RelayError("payload-too-large", `request body exceeds ${limitBytes} bytes`);
}

/** Parses JSON, mapping a syntax error to 400 validation-failed without echoing the input. */
export function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString("utf8"));
  } catch {
    throw new RelayError("validation-failed", "request body is not valid JSON", "malformed-json");
  }
}
