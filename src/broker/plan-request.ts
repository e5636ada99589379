import { createHash } from "node:crypto";
import type { GitHubCall } from "./operations";

/** SPEC §6 `planned`: what a write would send, identified by length and hash rather than content. */
export interface PlannedRequest {
  method: string;
  path: string;
  bodyLength: number;
  bodySha256: string;
}

/** The exact bytes sent for a call's body (Octokit sends `JSON.stringify` of it). */
export function requestBody(call: GitHubCall): string | null {
  return call.body === undefined ? null : JSON.stringify(call.body);
}

export function planRequest(call: GitHubCall): PlannedRequest {
  const body = requestBody(call) ?? "";
  return {
    method: call.method,
    path: call.path,
    bodyLength: Buffer.byteLength(body, "utf8"),
    bodySha256: createHash("sha256").update(body, "utf8").digest("hex"),
  };
}
