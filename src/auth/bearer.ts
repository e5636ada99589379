import type { IncomingMessage } from "node:http";
import { RelayError } from "../errors/failure-kinds";

const MAX_TOKEN_BYTES = 8 * 1024;
/** RFC 6750 b64token; a JWT always fits. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

/**
 * SPEC §4: the bearer token of a relay request, refused (401 `unauthorized-caller`) before any parsing
 * when it is missing, repeated, of another scheme, empty, or over 8 KiB.
 *
 * Node keeps only the first `Authorization` in `headers`, so duplicates are only visible in
 * `rawHeaders`. On Lambda (serverless-http) `rawHeaders` is empty and `headers` is all there is.
 */
export function extractBearer(request: Pick<IncomingMessage, "headers" | "rawHeaders">): string {
  const values = authorizationValues(request);
  if (values.length === 0) throw unauthorized("bearer-missing", "An Authorization: Bearer header is required.");
  if (values.length > 1) throw unauthorized("bearer-duplicated", "Send exactly one Authorization header.");
  const [value] = values;
  if (Buffer.byteLength(value) > MAX_TOKEN_BYTES + "Bearer ".length) {
    throw unauthorized("bearer-too-large", "The bearer token is larger than 8 KiB.");
  }
  const match = BEARER.exec(value.trim());
  if (!match) throw unauthorized("bearer-unusable", "The Authorization header must be `Bearer <token>`.");
  return match[1];
}

function authorizationValues({ headers, rawHeaders }: Pick<IncomingMessage, "headers" | "rawHeaders">): string[] {
  if (rawHeaders.length === 0) return headers.authorization === undefined ? [] : [headers.authorization];
  const values: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i].toLowerCase() === "authorization") values.push(rawHeaders[i + 1]);
  }
  return values;
}

function unauthorized(reason: string, message: string): RelayError {
  return new RelayError("unauthorized-caller", message, reason);
}
