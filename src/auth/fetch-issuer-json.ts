import { RelayError } from "../errors/failure-kinds";

const TIMEOUT_MS = 5000;

/**
 * GETs a JSON document from the OIDC issuer, refusing bodies over `maxBytes` while reading them (the
 * Content-Length header may be absent or lie). The issuer is a dependency the relay cannot fix, so
 * its failures are the retryable 502 `upstream-invalid-response` (SPEC §5), never `token-invalid`:
 * the caller's token may be perfectly good. `github-egress-failed` is kept for the GitHub API.
 */
export async function fetchIssuerJson(fetchImpl: typeof fetch, url: string, maxBytes: number): Promise<unknown> {
  let text: string | null;
  try {
    const response = await fetchImpl(url, {
      headers: { accept: "application/json" },
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    if (!response.ok) {
      await response.body?.cancel();
      throw issuerFailure("issuer-unreachable", "answered with an error");
    }
    text = await readBounded(response, maxBytes);
  } catch (error) {
    if (error instanceof RelayError) throw error;
    throw issuerFailure("issuer-unreachable", "could not be reached");
  }
  if (text === null) throw issuerFailure("issuer-invalid-response", `sent more than ${maxBytes} bytes`);
  try {
    return JSON.parse(text);
  } catch {
    throw issuerFailure("issuer-invalid-response", "sent a body that is not JSON");
  }
}

export function issuerFailure(reason: string, detail: string): RelayError {
  return new RelayError("upstream-invalid-response", `The OIDC issuer ${detail}.`, reason);
}

/** The body as text, or null once it grows past `maxBytes`. */
async function readBounded(response: Response, maxBytes: number): Promise<string | null> {
  if (Number(response.headers.get("content-length")) > maxBytes) {
    await response.body?.cancel();
    return null;
  }
  if (!response.body) return "";
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}
