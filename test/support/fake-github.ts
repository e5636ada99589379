import { createPublicKey, randomUUID, verify, type KeyObject } from "node:crypto";
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import type { ClientPayload } from "../../src/relay/build-client-payload";
import { TEST_APP_SLUG, testAppCredentials } from "./app-key";
import {
  FakeGitHubState,
  type CheckRunRecord,
  type CommentRecord,
  type DispatchRecord,
  type FakeInstallation,
  type InstallationSeed,
  type IssueSeed,
  type IssuedToken,
  type PullSeed,
  type RateLimit,
  type RerunRecord,
  type WorkflowRunSeed,
} from "./fake-github-state";
import { FakeHookDeliveries } from "./fake-github-deliveries";
import { covers, findRoute, notFound, type Reply, type Route } from "./fake-github-routes";
import { matchPath, type PathPattern } from "./path-pattern";

/**
 * A real HTTP server that answers like GitHub's REST API does for a GitHub Enterprise host
 * (`GHE_HOST=127.0.0.1:<port>`, `GHE_PROTOCOL=http`: Octokit then calls `/api/v3/...`). It keeps
 * state, checks App JWTs and installation tokens (scope and permissions included), records every
 * request, and can be told to fail or stall the next matching requests.
 */

export interface RecordedRequest {
  method: string;
  /** the API path without the `/api/v3` prefix, e.g. `/repos/o/r/dispatches` */
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  authorization: string | null;
  /** parsed JSON body; null when empty or not JSON */
  body: unknown;
  rawBody: string;
  receivedAt: number;
  /** the endpoint that served it, e.g. `POST /repos/{owner}/{repo}/dispatches`; null: no such endpoint here */
  route: string | null;
  /** the installation token presented, if the fake issued it (expired or not) */
  token: IssuedToken | null;
  /** null while the answer is pending (see `delayNext`) */
  status: number | null;
  /** answered by a `failNext` rule rather than by the endpoint */
  injected: boolean;
}

/** A repository_dispatch to `repo` that the fake accepted (204) for upstream delivery `deliveryId`. */
export function sentDispatch(repo: string, deliveryId: string): (request: RecordedRequest) => boolean {
  return (request) =>
    request.method === "POST" &&
    request.path === `/repos/${repo}/dispatches` &&
    request.status === 204 &&
    clientPayloadOf(request)?.delivery_id === deliveryId;
}

/** A recorded request's body read as the relay's repository_dispatch client_payload (SPEC §3); undefined without one. */
export function clientPayloadOf(request: Pick<RecordedRequest, "body">): ClientPayload | undefined {
  return (request.body as { client_payload?: ClientPayload } | null)?.client_payload;
}

/** What the relay sent in a dispatch the fake accepted, read as its client_payload (SPEC §3). */
export function dispatchedPayload(dispatch: Pick<DispatchRecord, "clientPayload">): ClientPayload {
  return dispatch.clientPayload as unknown as ClientPayload;
}

export interface FailureRule {
  /** any method when omitted */
  method?: string;
  path: PathPattern;
  status: number;
  /** how many matching requests fail; default 1 */
  times?: number;
  /** only requests this accepts (e.g. one delivery's dispatches), so other tests' late work cannot use the rule up */
  where?: (request: RecordedRequest) => boolean;
  headers?: Record<string, string>;
  /** default: a GitHub-style `{message}` for the status */
  body?: unknown;
}

/** What `failWhere` answers instead of the endpoint. */
export type InjectedFailure = Pick<FailureRule, "status" | "headers" | "body">;

export interface DelayRule {
  method?: string;
  path: PathPattern;
  ms: number;
  times?: number;
}

export interface FakeGitHubOptions {
  appId?: number;
  /** the App's public key (SPKI PEM); App JWTs must verify against it */
  publicKeyPem?: string;
  appSlug?: string;
}

type Predicate = (request: RecordedRequest) => boolean;

interface Waiter {
  predicate: Predicate;
  count: number;
  resolve(matches: RecordedRequest[]): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

const MAX_JWT_LIFETIME_SECONDS = 600;
const CLOCK_SKEW_SECONDS = 60;

const message = (status: number, text: string): Reply => ({
  status,
  body: { message: text, documentation_url: "https://docs.github.com/rest" },
});

/** Why GitHub would refuse this App JWT, or null when it is good. */
function appJwtProblem(jwt: string, appId: number, publicKey: KeyObject, nowMs: number): string | null {
  const [header, payload, signature] = jwt.split(".");
  if (!header || !payload || !signature) return "A JSON web token could not be decoded";
  let claims: { iss?: unknown; iat?: unknown; exp?: unknown };
  let alg: unknown;
  try {
    alg = (JSON.parse(Buffer.from(header, "base64url").toString()) as { alg?: unknown }).alg;
    claims = JSON.parse(Buffer.from(payload, "base64url").toString()) as typeof claims;
  } catch {
    return "A JSON web token could not be decoded";
  }
  if (alg !== "RS256") return "A JSON web token could not be decoded";
  const signed = verify("sha256", Buffer.from(`${header}.${payload}`), publicKey, Buffer.from(signature, "base64url"));
  if (!signed) return "A JSON web token could not be decoded";
  if (String(claims.iss) !== String(appId)) return "Integration not found";
  const now = Math.floor(nowMs / 1000);
  if (typeof claims.exp !== "number" || typeof claims.iat !== "number")
    return "'Expiration time' and 'Issued at' claims are required";
  if (claims.exp <= now) return "Expiration time' claim ('exp') is in the past";
  if (claims.iat > now + CLOCK_SKEW_SECONDS) return "Issued at' claim ('iat') is in the future";
  if (claims.exp > now + MAX_JWT_LIFETIME_SECONDS + CLOCK_SKEW_SECONDS)
    return "Expiration time' claim ('exp') is too far in the future";
  return null;
}

function parseAuthorization(header: string | undefined): { scheme: "bearer" | "token"; credential: string } | null {
  const match = /^(bearer|token)\s+(\S+)$/i.exec(header ?? "");
  if (!match) return null;
  return { scheme: match[1].toLowerCase() as "bearer" | "token", credential: match[2] };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

const sameMethod = (wanted: string | undefined, method: string) =>
  wanted === undefined || wanted === "*" || wanted.toUpperCase() === method;

export class FakeGitHub {
  readonly requests: RecordedRequest[] = [];
  /** the App's webhook: `hooks.setTarget(relay.baseUrl)`, then `hooks.deliver(...)` as GitHub would */
  readonly hooks = new FakeHookDeliveries();
  private readonly state: FakeGitHubState;
  private readonly publicKey: KeyObject;
  private readonly failures: (FailureRule & { times: number })[] = [];
  private readonly delays: (DelayRule & { times: number })[] = [];
  private injector: ((request: RecordedRequest) => InjectedFailure | null) | null = null;
  private readonly waiters = new Set<Waiter>();
  private readonly pendingDelays = new Set<NodeJS.Timeout>();
  private port = 0;

  constructor(
    private readonly server: Server,
    options: Required<FakeGitHubOptions>,
  ) {
    this.state = new FakeGitHubState(options.appId, options.appSlug);
    this.publicKey = createPublicKey(options.publicKeyPem);
    server.on("request", (req: IncomingMessage, res: ServerResponse) => {
      this.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) this.send(res, message(500, `fake GitHub failed: ${String(error)}`));
      });
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** `GHE_HOST` for a relay that should talk to this fake */
  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Octokit's `baseUrl` */
  get apiUrl(): string {
    return `http://${this.host}/api/v3`;
  }

  get appId(): number {
    return this.state.appId;
  }

  get appSlug(): string {
    return this.state.appSlug;
  }

  // --- seeding -------------------------------------------------------------------------------

  addInstallation(seed: InstallationSeed): FakeInstallation {
    return this.state.addInstallation(seed);
  }

  /** The id the fake gave a repository (for OIDC `repository_id` claims and `repository_ids`). */
  repoId(fullName: string): number {
    const repo = this.state.repo(fullName);
    if (!repo) throw new Error(`${fullName} is in no installation`);
    return repo.id;
  }

  /** A file for the Contents API; `ref` defaults to the default branch, `main`. */
  setFile(repo: string, path: string, content: string, ref = "main"): void {
    this.state.setFile(repo, path, content, ref);
  }

  setIssue(repo: string, seed: IssueSeed): void {
    this.state.setIssue(repo, seed);
  }

  setPull(repo: string, seed: PullSeed): void {
    this.state.setPull(repo, seed);
  }

  addWorkflowRun(repo: string, run: WorkflowRunSeed): void {
    this.state.addWorkflowRun(repo, run);
  }

  /** A commit `repo` holds, for `GET /repos/{o}/{r}/commits/{sha}`. */
  addCommit(repo: string, sha: string): void {
    this.state.addCommit(repo, sha);
  }

  setRateLimit(limit: Partial<RateLimit>): void {
    this.state.rateLimit = { ...this.state.rateLimit, ...limit };
  }

  /** Expires every token issued so far, as an hour passing would. */
  expireTokens(): void {
    this.state.expireTokens(Date.now());
  }

  // --- what happened -------------------------------------------------------------------------

  dispatches(repo?: string): DispatchRecord[] {
    return this.state.dispatches.filter((d) => repo === undefined || d.repo.toLowerCase() === repo.toLowerCase());
  }

  checkRuns(repo?: string): CheckRunRecord[] {
    return this.state.checkRuns.filter((r) => repo === undefined || r.repo.toLowerCase() === repo.toLowerCase());
  }

  comments(repo?: string, issueNumber?: number): CommentRecord[] {
    return this.state.comments.filter(
      (c) =>
        (repo === undefined || c.repo.toLowerCase() === repo.toLowerCase()) &&
        (issueNumber === undefined || c.issueNumber === issueNumber),
    );
  }

  /** Someone deleted the comment on GitHub. */
  deleteComment(id: number): void {
    const index = this.state.comments.findIndex((c) => c.id === id);
    if (index !== -1) this.state.comments.splice(index, 1);
  }

  reruns(): RerunRecord[] {
    return [...this.state.reruns];
  }

  issuedTokens(): IssuedToken[] {
    return [...this.state.tokens.values()];
  }

  requestsTo(method: string, path: PathPattern): RecordedRequest[] {
    return this.requests.filter((r) => sameMethod(method, r.method) && matchPath(path, r.path) !== null);
  }

  /** Requests for endpoints the fake does not serve: a test can assert there were none. */
  unhandledRequests(): RecordedRequest[] {
    return this.requests.filter((r) => r.route === null);
  }

  clearRequests(): void {
    this.requests.length = 0;
  }

  /** The first request (already recorded or yet to come) matching `predicate`. */
  async waitFor(predicate: Predicate, timeoutMs = 30_000): Promise<RecordedRequest> {
    const [first] = await this.waitForCount(predicate, 1, timeoutMs);
    return first;
  }

  /** Resolves once `count` recorded requests match; rejects with what was seen after `timeoutMs`. */
  waitForCount(predicate: Predicate, count: number, timeoutMs = 30_000): Promise<RecordedRequest[]> {
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        predicate,
        count,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          const seen = this.requests.map((r) => `  ${r.method} ${r.path} -> ${r.status ?? "pending"}`).join("\n");
          reject(
            new Error(
              `fake GitHub: ${count} matching request(s) not seen within ${timeoutMs} ms; saw:\n${seen || "  nothing"}`,
            ),
          );
        }, timeoutMs),
      };
      this.waiters.add(waiter);
      this.notify();
    });
  }

  // --- fault injection -----------------------------------------------------------------------

  /** The next `times` requests matching answer `status` (with `headers`, e.g. retry-after) instead. */
  failNext(rule: FailureRule): void {
    this.failures.push({ ...rule, times: rule.times ?? 1 });
  }

  /** Forgets the `failNext` rules not used up yet: GitHub is well again. */
  clearFailures(): void {
    this.failures.length = 0;
  }

  /**
   * Every request is offered to `decide` (after the `failNext` rules); what it returns is answered
   * instead of the endpoint. For chaos at a rate ("30 % of writes fail"); null turns it off.
   */
  failWhere(decide: ((request: RecordedRequest) => InjectedFailure | null) | null): void {
    this.injector = decide;
  }

  /** The next `times` requests matching are answered only after `ms`. */
  delayNext(rule: DelayRule): void {
    this.delays.push({ ...rule, times: rule.times ?? 1 });
  }

  async close(): Promise<void> {
    for (const timer of this.pendingDelays) clearTimeout(timer);
    for (const waiter of this.waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(new Error("fake GitHub closed"));
    }
    this.waiters.clear();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // --- serving -------------------------------------------------------------------------------

  private notify(): void {
    for (const waiter of this.waiters) {
      const matches = this.requests.filter(waiter.predicate);
      if (matches.length >= waiter.count) {
        clearTimeout(waiter.timer);
        this.waiters.delete(waiter);
        waiter.resolve(matches.slice(0, waiter.count));
      }
    }
  }

  private takeRule<
    T extends { method?: string; path: PathPattern; times: number; where?: (request: RecordedRequest) => boolean },
  >(rules: T[], request: RecordedRequest): T | undefined {
    const rule = rules.find(
      (r) =>
        r.times > 0 &&
        sameMethod(r.method, request.method) &&
        matchPath(r.path, request.path) !== null &&
        (r.where?.(request) ?? true),
    );
    if (rule) rule.times -= 1;
    return rule;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // A client that went away (a relay killed mid-request) must not crash the fake.
    res.on("error", () => undefined);
    const rawBody = await readBody(req);
    const url = new URL(req.url ?? "/", `http://${this.host}`);
    const path = url.pathname.startsWith("/api/v3/") ? url.pathname.slice("/api/v3".length) : url.pathname;
    const method = (req.method ?? "GET").toUpperCase();
    let body: unknown = null;
    let bodyIsJson = true;
    if (rawBody.trim() !== "") {
      try {
        body = JSON.parse(rawBody);
      } catch {
        bodyIsJson = false;
      }
    }
    const found = url.pathname.startsWith("/api/v3/") ? findRoute(method, path) : null;
    const authorization = parseAuthorization(req.headers.authorization);
    const token =
      authorization?.scheme === "token" || authorization?.credential.startsWith("ghs_")
        ? (this.state.tokens.get(authorization.credential) ?? null)
        : null;

    const request: RecordedRequest = {
      method,
      path,
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
      authorization: req.headers.authorization ?? null,
      body,
      rawBody,
      receivedAt: Date.now(),
      route: found ? `${found.route.method} ${found.route.template}` : null,
      token,
      status: null,
      injected: false,
    };
    this.requests.push(request);
    this.notify();

    const delay = this.takeRule(this.delays, request);
    if (delay) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.pendingDelays.delete(timer);
          resolve();
        }, delay.ms);
        this.pendingDelays.add(timer);
      });
    }

    let reply: Reply;
    const failure = this.takeRule(this.failures, request) ?? this.injector?.(request) ?? undefined;
    if (failure) {
      request.injected = true;
      reply = {
        ...message(failure.status, defaultFailureMessage(failure.status)),
        ...(failure.body !== undefined ? { body: failure.body } : {}),
        headers: failure.headers,
      };
    } else if (!bodyIsJson) {
      reply = message(400, "Problems parsing JSON");
    } else if (!found) {
      reply = notFound();
    } else {
      reply = this.serve(found.route, found.params, request);
    }
    request.status = reply.status;
    this.send(res, reply);
    this.notify();
  }

  private serve(route: Route, params: Record<string, string>, request: RecordedRequest): Reply {
    const now = Date.now();
    const authorization = parseAuthorization(request.authorization ?? undefined);
    const jwt =
      authorization?.scheme === "bearer" && authorization.credential.split(".").length === 3
        ? authorization.credential
        : null;
    if (jwt !== null && route.auth !== "installation") {
      const problem = appJwtProblem(jwt, this.state.appId, this.publicKey, now);
      if (problem) return message(401, problem);
    } else if (route.auth === "app") {
      return message(401, "A JSON web token could not be decoded");
    } else if (authorization !== null && (request.token === null || request.token.expiresAt <= now)) {
      return message(401, "Bad credentials");
    } else if (authorization === null && route.auth === "installation") {
      return message(401, "Requires authentication");
    }

    let repo = null;
    if (route.auth === "installation" && params.owner !== undefined && params.repo !== undefined) {
      const token = request.token;
      repo = this.state.repo(`${params.owner}/${params.repo}`) ?? null;
      const visible =
        repo !== null &&
        token !== null &&
        repo.installationId === token.installationId &&
        (token.repositories === null || token.repositories.includes(repo.fullName));
      // GitHub hides repositories a token cannot see rather than saying it may not see them.
      if (!visible) return notFound();
    }
    if (route.permission && request.token) {
      const [name, level] = route.permission;
      if (!covers(request.token.permissions, { [name]: level }))
        return message(403, "Resource not accessible by integration");
    }

    return route.handle({
      state: this.state,
      params,
      query: request.query,
      headers: request.headers,
      body: request.body,
      repo,
      token: request.token,
      hooks: this.hooks,
      now,
      apiUrl: this.apiUrl,
      webUrl: `http://${this.host}`,
    });
  }

  private send(res: ServerResponse, reply: Reply): void {
    const rate = this.state.rateLimit;
    const headers: Record<string, string> = {
      "x-github-request-id": randomUUID(),
      "x-github-media-type": "github.v3; format=json",
      "x-ratelimit-limit": String(rate.limit),
      "x-ratelimit-remaining": String(rate.remaining),
      "x-ratelimit-used": String(rate.limit - rate.remaining),
      "x-ratelimit-reset": String(rate.reset),
      "x-ratelimit-resource": "core",
    };
    let payload = "";
    if (typeof reply.body === "string") {
      payload = reply.body;
      headers["content-type"] = "text/plain; charset=utf-8";
    } else if (reply.body !== undefined && reply.status !== 204) {
      payload = JSON.stringify(reply.body);
      headers["content-type"] = "application/json; charset=utf-8";
    }
    res.writeHead(reply.status, { ...headers, ...reply.headers });
    res.end(payload);
  }
}

function defaultFailureMessage(status: number): string {
  if (status === 403 || status === 429)
    return "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.";
  if (status >= 500) return "Server Error";
  return "Injected failure";
}

/** Starts a fake GitHub on a free port of 127.0.0.1; the App's key defaults to `testAppCredentials()`. */
export async function startFakeGitHub(options: FakeGitHubOptions = {}): Promise<FakeGitHub> {
  const credentials = testAppCredentials();
  const fake = new FakeGitHub(createServer(), {
    appId: options.appId ?? credentials.appId,
    publicKeyPem: options.publicKeyPem ?? credentials.publicKeyPem,
    appSlug: options.appSlug ?? TEST_APP_SLUG,
  });
  await fake.listen();
  return fake;
}
