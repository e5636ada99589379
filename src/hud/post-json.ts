import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";

/** What the far side answered to a POST: its status and headers; the body is read and dropped. */
export interface PostAnswer {
  status: number;
  headers: Record<string, string>;
}

/** POSTs `body` (JSON) to `url`; rejects on a network failure or once `signal` aborts. */
export type PostJson = (
  url: string,
  body: string,
  headers: Record<string, string>,
  signal: AbortSignal,
) => Promise<PostAnswer>;

/**
 * Kept-alive connections per protocol: the HUD gets one POST per accepted transition, as many as the
 * relay answers callbacks, so each reuses a connection instead of opening its own.
 */
const AGENTS = { "http:": new HttpAgent({ keepAlive: true }), "https:": new HttpsAgent({ keepAlive: true }) };

/** Redirects followed before the answer is taken as it is (fetch follows up to 20). */
const MAX_REDIRECTS = 5;

/**
 * Node's own HTTP client rather than `fetch`: on the process that answers callbacks, `fetch`'s
 * Request, Response and stream objects cost several times what the POST itself does. As fetch did, a
 * 307 or 308 is followed with the same POST — but only to the same host (an http → https upgrade, a
 * trailing slash), since the headers carry the HUD's credentials; any other redirect is the answer.
 */
export const postJson: PostJson = async (url, body, headers, signal) => {
  let target = new URL(url);
  for (let redirects = 0; ; redirects++) {
    const answer = await postOnce(target, body, headers, signal);
    const location = answer.headers.location;
    if (!(answer.status === 307 || answer.status === 308) || location === undefined || redirects === MAX_REDIRECTS)
      return answer;
    const next = new URL(location, target);
    if (next.hostname !== target.hostname) return answer;
    target = next;
  }
};

function postOnce(
  target: URL,
  body: string,
  headers: Record<string, string>,
  signal: AbortSignal,
): Promise<PostAnswer> {
  const protocol = target.protocol === "https:" || target.protocol === "http:" ? target.protocol : null;
  if (protocol === null) return Promise.reject(new Error(`cannot POST to a ${target.protocol} URL`));
  const send = protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const request = send(
      target,
      {
        method: "POST",
        agent: AGENTS[protocol],
        headers: { ...headers, "content-type": "application/json", "content-length": Buffer.byteLength(body) },
        signal,
      },
      (response) => {
        response.on("error", reject);
        response.on("end", () => resolve({ status: response.statusCode ?? 0, headers: flatHeaders(response.headers) }));
        response.resume();
      },
    );
    request.on("error", reject);
    request.end(body);
  });
}

/** A header sent several times (only `set-cookie` is kept as a list by node) reads as its values joined. */
function flatHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return flat;
}
