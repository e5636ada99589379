import type { IncomingMessage } from "node:http";
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
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > limitBytes) {
      request.resume(); // drain the rest so the connection can answer
      throw tooLarge(limitBytes);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
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
