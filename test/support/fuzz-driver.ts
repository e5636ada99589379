import { Agent, request as httpRequest, type OutgoingHttpHeaders } from "node:http";
import fc from "fast-check";
import type { OidcIssuer } from "./oidc-issuer";
import { residentMiB } from "./process-memory";
import { requestsFor, type AuthSpec, type FuzzEndpoint, type FuzzRequest, type FuzzTemplates } from "./fuzz-requests";

/**
 * Sends generated requests at a running relay and sorts the answers: what each status was, and
 * every answer the contract forbids (a 5xx, no answer in time, an HTML page, a stack trace, an error
 * that is not SPEC §5 JSON). The relay's memory is read before and after each endpoint.
 */

/** No answer within this is a hang. Generous: a loaded 2-core machine is slow, not stuck. */
const HANG_MS = 20_000;
const EXAMPLES_KEPT = 6;

export interface FuzzTarget {
  baseUrl: string;
  pid: number;
  issuer: OidcIssuer;
  /** resolves when the relay process has exited (a crash is the worst finding) */
  exited: Promise<unknown>;
}

export interface EndpointStats {
  endpoint: FuzzEndpoint;
  seed: number;
  requests: number;
  statuses: Record<string, number>;
  fiveXx: number;
  hangs: number;
  html: number;
  stackTraces: number;
  /** HTML answers to another method or path variant (Express's "Cannot POST /x" page); not in `html` */
  offRouteHtml: number;
  /** a 2xx where none may be: an unsigned webhook accepted */
  unexpectedSuccess: number;
  /** an error status whose body is not a JSON object (answers of the HTTP layer itself excluded) */
  nonJsonErrors: number;
  /** answered by Node's HTTP server before the app saw the request (400, 417, 431 with an empty body) */
  httpLayer: number;
  /** the connection closed without an answer (the server may cut an oversized upload short) */
  connectionErrors: number;
  rssStartMiB: number | null;
  rssEndMiB: number | null;
  /** the process was gone after this endpoint */
  crashed: boolean;
  /** what the first few forbidden answers were, for a reader to reproduce */
  examples: string[];
}

/** Forbidden answers to the documented method and path. */
export const forbiddenAnswers = (stats: EndpointStats): number =>
  stats.fiveXx + stats.hangs + stats.html + stats.stackTraces + stats.unexpectedSuccess + (stats.crashed ? 1 : 0);

const AUDIENCES = { callback: "ci-relay-callback", broker: "ci-relay-broker", other: "someone-else" } as const;

async function authorizationValues(auth: AuthSpec, issuer: OidcIssuer): Promise<string[]> {
  if (auth.kind === "none") return [];
  if (auth.kind === "raw") return auth.values;
  const claims: Record<string, unknown> = auth.repository === "" ? {} : { repository: auth.repository };
  const token = await issuer.mint(claims, { audience: AUDIENCES[auth.audience], forge: auth.forge, omit: auth.omit });
  return auth.twice ? [`Bearer ${token}`, `Bearer ${token}`] : [`Bearer ${token}`];
}

interface Answer {
  status: number;
  contentType: string;
  body: string;
}

type Outcome = { kind: "answer"; answer: Answer } | { kind: "hang" } | { kind: "connection-error"; error: string };

function send(baseUrl: string, agent: Agent, request: FuzzRequest, authorization: string[]): Promise<Outcome> {
  const headers: OutgoingHttpHeaders = {};
  // Several values become one header line each: how two Authorization lines are sent.
  const lines = [...request.headers, ...authorization.map((value): [string, string] => ["authorization", value])];
  for (const [name, value] of lines) {
    const previous = headers[name];
    headers[name] =
      previous === undefined ? value : [...(Array.isArray(previous) ? previous : [String(previous)]), value];
  }
  if (request.body !== null) headers["content-length"] = String(request.body.length);
  const url = new URL(baseUrl);
  return new Promise((resolve) => {
    let settled = false;
    const settle = (outcome: Outcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    const outgoing = httpRequest(
      { host: url.hostname, port: url.port, method: request.method, path: request.path, headers, agent },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () =>
          settle({
            kind: "answer",
            answer: {
              status: response.statusCode ?? 0,
              contentType: String(response.headers["content-type"] ?? ""),
              body: Buffer.concat(chunks).toString("utf8"),
            },
          }),
        );
        response.on("error", (error) => settle({ kind: "connection-error", error: String(error) }));
      },
    );
    const timer = setTimeout(() => {
      settle({ kind: "hang" });
      outgoing.destroy();
    }, HANG_MS);
    outgoing.on("error", (error) => settle({ kind: "connection-error", error: String(error) }));
    outgoing.end(request.body ?? undefined);
  });
}

const STACK_TRACE = /\n\s+at [^\n]+:\d+:\d+|node_modules\//;

function isJsonObject(text: string): boolean {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === "object" && !Array.isArray(value);
  } catch {
    return false;
  }
}

function describe(request: FuzzRequest, outcome: string): string {
  const body = request.body === null ? "" : request.body.toString("utf8").slice(0, 160);
  const headers = request.headers.map(([name, value]) => `${name}: ${value.slice(0, 40)}`).join("; ");
  return `${request.method} ${request.path.slice(0, 120)} [${headers.slice(0, 300)}] auth=${request.auth.kind} body(${request.body?.length ?? 0})=${JSON.stringify(body)} -> ${outcome}`;
}

/** Records one outcome in `stats`, keeping an example of each distinct forbidden answer. */
function tally(stats: EndpointStats, request: FuzzRequest, outcome: Outcome, seen: Set<string>): void {
  const keep = (what: string) => {
    const kind = what.slice(0, 60);
    if (seen.has(kind) || stats.examples.length >= EXAMPLES_KEPT) return;
    seen.add(kind);
    stats.examples.push(describe(request, what));
  };
  if (outcome.kind === "hang") {
    stats.hangs++;
    stats.statuses.hang = (stats.statuses.hang ?? 0) + 1;
    keep(`no answer within ${HANG_MS} ms`);
    return;
  }
  if (outcome.kind === "connection-error") {
    stats.connectionErrors++;
    stats.statuses.reset = (stats.statuses.reset ?? 0) + 1;
    return;
  }
  const { status, contentType, body } = outcome.answer;
  stats.statuses[String(status)] = (stats.statuses[String(status)] ?? 0) + 1;
  const summary = `${status} ${contentType} ${JSON.stringify(body.slice(0, 200))}`;
  if (status >= 500) {
    stats.fiveXx++;
    keep(summary);
  }
  if (stats.endpoint === "webhook-unsigned" && request.method === "POST" && status >= 200 && status < 300) {
    stats.unexpectedSuccess++;
    keep(`accepted without a valid signature: ${summary}`);
  }
  if (status < 400 || request.method === "HEAD") return;
  if (/text\/html/i.test(contentType) || /^\s*</.test(body)) {
    if (request.offRoute) stats.offRouteHtml++;
    else stats.html++;
    keep(summary);
  }
  if (STACK_TRACE.test(body)) {
    stats.stackTraces++;
    keep(summary);
  }
  if (body === "" && contentType === "" && [400, 417, 431].includes(status)) stats.httpLayer++;
  else if (!isJsonObject(body)) {
    stats.nonJsonErrors++;
    keep(`not JSON: ${summary}`);
  }
}

export interface FuzzRunOptions {
  count: number;
  seed: number;
  /** requests in flight at once */
  concurrency?: number;
  /** generated per batch (memory stays flat however many are sent) */
  batch?: number;
}

/** Sends `count` generated requests for `endpoint` and returns what came back. */
export async function fuzzEndpoint(
  target: FuzzTarget,
  endpoint: FuzzEndpoint,
  templates: FuzzTemplates,
  options: FuzzRunOptions,
): Promise<EndpointStats> {
  const arbitrary = requestsFor(endpoint, templates);
  const concurrency = options.concurrency ?? 8;
  const batch = options.batch ?? 500;
  let crashed = false;
  void target.exited.then(() => {
    crashed = true;
  });
  const stats: EndpointStats = {
    endpoint,
    seed: options.seed,
    requests: 0,
    statuses: {},
    fiveXx: 0,
    hangs: 0,
    html: 0,
    stackTraces: 0,
    offRouteHtml: 0,
    unexpectedSuccess: 0,
    nonJsonErrors: 0,
    httpLayer: 0,
    connectionErrors: 0,
    rssStartMiB: residentMiB(target.pid),
    rssEndMiB: null,
    crashed: false,
    examples: [],
  };
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const seen = new Set<string>();
  try {
    for (let start = 0; start < options.count && !crashed; start += batch) {
      const requests = fc.sample(arbitrary, {
        seed: options.seed + start,
        numRuns: Math.min(batch, options.count - start),
      });
      let next = 0;
      const worker = async () => {
        while (next < requests.length && !crashed) {
          const request = requests[next++];
          const authorization = await authorizationValues(request.auth, target.issuer);
          const outcome = await send(target.baseUrl, agent, request, authorization);
          stats.requests++;
          tally(stats, request, outcome, seen);
        }
      };
      await Promise.all(Array.from({ length: concurrency }, worker));
    }
  } finally {
    agent.destroy();
  }
  // Give a crash that a request caused a moment to be noticed.
  await new Promise((resolve) => setTimeout(resolve, 200));
  stats.crashed = crashed;
  stats.rssEndMiB = residentMiB(target.pid);
  return stats;
}

/** One line per endpoint, the form `npm run fuzz` prints. */
export function formatStats(stats: EndpointStats): string {
  const statuses = Object.entries(stats.statuses)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([status, n]) => `${status}:${n}`)
    .join(" ");
  return [
    `${stats.endpoint.padEnd(20)} requests=${stats.requests} 5xx=${stats.fiveXx} hangs=${stats.hangs} html=${stats.html} stack=${stats.stackTraces}${stats.unexpectedSuccess ? ` unexpected-2xx=${stats.unexpectedSuccess}` : ""}`,
    `off-route-html=${stats.offRouteHtml} non-json-errors=${stats.nonJsonErrors} http-layer=${stats.httpLayer} resets=${stats.connectionErrors}`,
    `rss=${stats.rssStartMiB ?? "?"}->${stats.rssEndMiB ?? "?"} MiB${stats.crashed ? " CRASHED" : ""}`,
    `statuses{${statuses}}`,
  ].join(" ");
}
