import { createHmac } from "node:crypto";
import { brotliCompressSync, deflateSync, gzipSync } from "node:zlib";
import fc from "fast-check";

/**
 * What the fuzz suite sends: one fast-check arbitrary per relay endpoint, generating requests that
 * mix shapes close to valid (real payloads with fields dropped or replaced) with hostile ones
 * (non-object JSON, deep nesting, huge bodies, wrong encodings and content types, stray or doubled
 * headers, broken query strings). Generation is pure and seeded, so a seed replays a run; only the
 * credentials (fresh OIDC tokens) are filled in when a request is sent, see `Credentials`.
 */

/** How a request authenticates; resolved to header values at send time. */
export type AuthSpec =
  | { kind: "none" }
  | { kind: "raw"; values: string[] }
  /** a fresh, valid OIDC token for `repository` with `audience`, optionally forged or missing claims */
  | {
      kind: "oidc";
      audience: "callback" | "broker" | "other";
      repository: string;
      forge?: "other-key" | "unknown-kid" | "alg-none" | "hs256-with-public-key";
      omit?: string[];
      twice?: boolean;
    };

export interface FuzzRequest {
  method: string;
  /** path and query string as sent on the request line */
  path: string;
  headers: [string, string][];
  auth: AuthSpec;
  body: Buffer | null;
  /** another method, or a path other than the documented one (a trailing slash, odd case, `;a=b`) */
  offRoute: boolean;
}

export interface FuzzTemplates {
  webhookSecret: string;
  /** real upstream deliveries (a PR opened, a push) the webhook bodies start from */
  webhookPayloads: Record<string, unknown>[];
  /** relay tokens of real dispatches, so callbacks get past the token check */
  relayTokens: string[];
  /** a repository the callback OIDC tokens may name with a real dispatch behind it */
  callbackRepository: string;
  /** the broker caller's repository (holds grants) and the upstream it may act on */
  brokerRepository: string;
  upstream: string;
}

const offRoute = (method: string, usual: string, path: string, documented: string) =>
  method !== usual || path.split("?")[0] !== documented;

export const FUZZ_ENDPOINTS = [
  "webhook-signed",
  "webhook-unsigned",
  "callback",
  "broker-gh",
  "broker-pr-preflight",
  "health",
  "runs",
  "dashboard",
  "metrics",
] as const;
export type FuzzEndpoint = (typeof FUZZ_ENDPOINTS)[number];

const MiB = 1024 * 1024;

const signBytes = (body: Buffer, secret: string): string =>
  `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;

// --- values ---------------------------------------------------------------------------------

/** Any JSON value, with the awkward ones (huge numbers, -0, unicode, empty keys) well represented. */
const jsonValue = (maxDepth = 3): fc.Arbitrary<unknown> =>
  fc.oneof(
    fc.jsonValue({ maxDepth }),
    fc.constantFrom(
      null,
      "",
      0,
      -1,
      -0,
      1e308,
      Number.MAX_SAFE_INTEGER + 2,
      "x",
      " ",
      "\u0000",
      "null",
      "1",
      "true",
      "💥",
      "a".repeat(5_000),
    ),
    fc.string({ unit: "binary", maxLength: 64 }),
  );

/** Each field of `template` kept, dropped, replaced by any JSON value, or (for objects) mutated in turn. */
function mutated(template: Record<string, unknown>, depth = 2): fc.Arbitrary<Record<string, unknown>> {
  const fields = Object.entries(template).map(([key, value]) => {
    const choices: fc.Arbitrary<{ keep: boolean; value?: unknown }>[] = [
      fc.constant({ keep: true, value }),
      fc.constant({ keep: true, value }),
      fc.constant({ keep: false }),
      jsonValue(2).map((replacement) => ({ keep: true, value: replacement })),
    ];
    if (depth > 0 && value !== null && typeof value === "object" && !Array.isArray(value)) {
      choices.push(mutated(value as Record<string, unknown>, depth - 1).map((inner) => ({ keep: true, value: inner })));
    }
    return fc.tuple(fc.constant(key), fc.oneof(...choices));
  });
  const extra = fc.dictionary(
    fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom("__proto__", "constructor", "prototype", "")),
    jsonValue(1),
    { maxKeys: 3 },
  );
  return fc.tuple(fc.tuple(...fields), extra).map(([entries, added]) => {
    const result: Record<string, unknown> = {};
    for (const [key, choice] of entries) if (choice.keep) result[key] = choice.value;
    // Object.defineProperty so a "__proto__" key is an own field, as JSON.parse would make it.
    for (const [key, value] of Object.entries(added))
      Object.defineProperty(result, key, { value, enumerable: true, writable: true, configurable: true });
    return result;
  });
}

const nested = fc
  .record({ depth: fc.integer({ min: 1, max: 8_000 }), kind: fc.constantFrom("array", "object", "mixed") })
  .map(({ depth, kind }) => {
    if (kind === "array") return "[".repeat(depth) + "]".repeat(depth);
    if (kind === "object") return '{"a":'.repeat(depth) + "1" + "}".repeat(depth);
    return '{"a":['.repeat(depth) + "]}".repeat(depth);
  });

/** A body's text: JSON-ish for the endpoint, or hostile. Big bodies are rare so a run stays fast. */
function bodyText(shaped: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 10, arbitrary: shaped.map((value) => JSON.stringify(value)) },
    { weight: 2, arbitrary: jsonValue(4).map((value) => JSON.stringify(value) ?? "") },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        "null",
        '""',
        "0",
        "-1",
        '"x"',
        "[]",
        "true",
        "1e999",
        "{}",
        "[{}]",
        '{"a":1,"a":2}',
        '{"__proto__":{"polluted":1}}',
      ),
    },
    { weight: 1, arbitrary: nested },
    {
      weight: 1,
      arbitrary: fc.tuple(shaped, fc.nat()).map(([value, cut]) => {
        const text = JSON.stringify(value);
        return text.slice(0, cut % Math.max(1, text.length));
      }),
    },
    { weight: 1, arbitrary: shaped.map((value) => `\uFEFF${JSON.stringify(value)}`) },
    { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 512 }) },
    { weight: 1, arbitrary: fc.constant("") },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom(64 * 1024 + 1, 300_000, MiB + 1, 6 * MiB)
        .map((size) => JSON.stringify({ padding: "x".repeat(size) })),
    },
  );
}

type Encoding = "identity" | "gzip" | "deflate" | "br" | "gzip-lie" | "bogus";

function encode(text: string | Buffer, encoding: Encoding): { bytes: Buffer; header: string | null } {
  const raw = Buffer.isBuffer(text) ? text : Buffer.from(text, "utf8");
  switch (encoding) {
    case "identity":
      return { bytes: raw, header: null };
    case "gzip":
      return { bytes: gzipSync(raw), header: "gzip" };
    case "deflate":
      return { bytes: deflateSync(raw), header: "deflate" };
    case "br":
      return { bytes: brotliCompressSync(raw), header: "br" };
    case "gzip-lie":
      return { bytes: raw, header: "gzip" };
    case "bogus":
      return { bytes: raw, header: "x-made-up, gzip" };
  }
}

const encodingArb: fc.Arbitrary<Encoding> = fc.oneof(
  { weight: 12, arbitrary: fc.constant("identity" as const) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      "gzip" as const,
      "deflate" as const,
      "br" as const,
      "gzip-lie" as const,
      "bogus" as const,
    ),
  },
);

/** Bytes that are not valid UTF-8, or text in another encoding than the one declared. */
const strangeBytes = fc.oneof(
  fc.uint8Array({ maxLength: 2_048 }).map((bytes) => Buffer.from(bytes)),
  fc.constant(Buffer.from([0xc3, 0x28, 0x7b, 0x22, 0xff, 0xfe, 0x7d])),
  fc.constant(Buffer.from('{"a":"\u00e9"}', "utf16le")),
  fc.constant(Buffer.from('{"a":"\u00e9"}', "latin1")),
);

const contentType = fc.oneof(
  { weight: 12, arbitrary: fc.constant("application/json") },
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      "application/json; charset=utf-8",
      "application/json; charset=latin1",
      "application/json; charset=utf-16",
      "application/json; charset=made-up",
      "text/plain",
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=xyz",
      "application/xml",
      "",
      "application/json, text/html",
      "*/*",
    ),
  },
  { weight: 1, arbitrary: fc.constant(null) },
);

const headerName = fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/);
const headerValue = fc.oneof(fc.stringMatching(/^[\x20-\x7e]{0,80}$/), fc.constantFrom("", "a".repeat(6_000)));
/** Headers a client might add: caching, forwarding, ranges, overrides, and made-up ones. */
const strayHeaders: fc.Arbitrary<[string, string][]> = fc.array(
  fc.oneof(
    { weight: 10, arbitrary: fc.tuple(headerName, headerValue) },
    {
      weight: 10,
      arbitrary: fc.tuple(
        fc.constantFrom(
          "accept",
          "accept-encoding",
          "x-forwarded-for",
          "x-forwarded-proto",
          "x-http-method-override",
          "range",
          "if-none-match",
          "origin",
          "cookie",
        ),
        headerValue,
      ),
    },
    // Rare: Node answers any Expect but 100-continue itself (417), so the app never sees the request.
    { weight: 1, arbitrary: fc.constantFrom<[string, string]>(["expect", "100-continue"], ["expect", "200-ok"]) },
  ),
  { maxLength: 4 },
);

// --- bodies of each endpoint --------------------------------------------------------------------

interface BodySpec {
  text: string | Buffer;
  encoding: Encoding;
  contentType: string | null;
}

function bodySpec(shaped: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<BodySpec> {
  return fc.record({
    text: fc.oneof(
      { weight: 12, arbitrary: bodyText(shaped) as fc.Arbitrary<string | Buffer> },
      { weight: 1, arbitrary: strangeBytes },
    ),
    encoding: encodingArb,
    contentType,
  });
}

function withBody(spec: BodySpec, headers: [string, string][]): { body: Buffer; headers: [string, string][] } {
  const { bytes, header } = encode(spec.text, spec.encoding);
  const all = [...headers];
  if (spec.contentType !== null) all.push(["content-type", spec.contentType]);
  if (header !== null) all.push(["content-encoding", header]);
  return { body: bytes, headers: all };
}

const methodFor = (usual: "GET" | "POST") =>
  fc.oneof(
    { weight: 30, arbitrary: fc.constant(usual) },
    {
      weight: 1,
      arbitrary: fc.constantFrom("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD").filter((m) => m !== usual),
    },
  );

/** The path: mostly as documented, sometimes with a trailing slash, a query, or odd case. */
const pathVariant = (path: string) =>
  fc.oneof(
    { weight: 20, arbitrary: fc.constant(path) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        `${path}/`,
        `${path}?`,
        `${path}?x=1&x=2`,
        `${path}?%zz`,
        `${path}//`,
        path.toUpperCase(),
        `${path}%2F`,
        `${path};a=b`,
      ),
    },
  );

const events = [
  "pull_request",
  "push",
  "check_run",
  "check_suite",
  "workflow_run",
  "installation",
  "ping",
  "issue_comment",
  "merge_group",
];

function webhookRequest(templates: FuzzTemplates, signed: boolean): fc.Arbitrary<FuzzRequest> {
  const payloads = templates.webhookPayloads.map((payload) => mutated(payload as Record<string, unknown>));
  const shaped = fc.oneof(...payloads);
  const event = fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(...events) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        "",
        " ",
        "PULL_REQUEST",
        "pull_request.opened",
        "a".repeat(3_000),
        "__proto__",
        "constructor",
      ),
    },
    { weight: 1, arbitrary: fc.stringMatching(/^[\x21-\x7e]{0,30}$/) },
  );
  const delivery = fc.oneof(
    { weight: 8, arbitrary: fc.uuid() },
    { weight: 1, arbitrary: fc.constantFrom("", "../../etc/passwd", "*", "a".repeat(2_000), "relay:*", "0") },
  );
  type SignatureSpec = "valid" | "none" | "wrong" | "sha1-only" | "malformed" | "uppercase" | "double";
  const signature: fc.Arbitrary<SignatureSpec> = signed
    ? fc.oneof(
        { weight: 12, arbitrary: fc.constant("valid" as const) },
        { weight: 1, arbitrary: fc.constantFrom("uppercase" as const, "double" as const) },
      )
    : fc.constantFrom("none" as const, "wrong" as const, "sha1-only" as const, "malformed" as const);
  return fc
    .record({
      method: methodFor("POST"),
      path: pathVariant("/api/github/webhooks"),
      body: bodySpec(shaped),
      event: fc.option(event, { freq: 20 }),
      delivery: fc.option(delivery, { freq: 20 }),
      signature,
      extra: strayHeaders,
    })
    .map(({ method, path, body, event, delivery, signature, extra }) => {
      const headers: [string, string][] = [["user-agent", "GitHub-Hookshot/fuzz"], ...extra];
      if (event !== null) headers.push(["x-github-event", event]);
      if (delivery !== null) headers.push(["x-github-delivery", delivery]);
      const sent = withBody(body, headers);
      // Signed over the bytes on the wire, as GitHub signs what it sends.
      const mac = signBytes(sent.body, templates.webhookSecret);
      switch (signature) {
        case "valid":
          sent.headers.push(["x-hub-signature-256", mac]);
          break;
        case "uppercase":
          sent.headers.push(["x-hub-signature-256", `sha256=${mac.slice(7).toUpperCase()}`]);
          break;
        case "double":
          sent.headers.push(["x-hub-signature-256", mac], ["x-hub-signature-256", mac]);
          break;
        case "wrong":
          // A real HMAC of these bytes, under another secret.
          sent.headers.push(["x-hub-signature-256", signBytes(sent.body, `${templates.webhookSecret}-not`)]);
          break;
        case "sha1-only":
          sent.headers.push(["x-hub-signature", `sha1=${"0".repeat(40)}`]);
          break;
        case "malformed":
          sent.headers.push(["x-hub-signature-256", "sha256="]);
          break;
        case "none":
          break;
      }
      return {
        method,
        path,
        headers: sent.headers,
        auth: { kind: "none" },
        body: sent.body,
        offRoute: offRoute(method, "POST", path, "/api/github/webhooks"),
      };
    });
}

const rawAuthorization: fc.Arbitrary<AuthSpec> = fc
  .oneof(
    fc.constantFrom(
      "Bearer",
      "Bearer ",
      "bearer x",
      "Basic dXNlcjpwYXNz",
      "Bearer a.b.c",
      "Bearer ....",
      `Bearer ${"a".repeat(9_000)}`,
      "Token ghs_x",
      "Bearer e30.e30.",
      "Bearer eyJhbGciOiJub25lIn0.e30.",
    ),
    fc.stringMatching(/^Bearer [\x21-\x7e]{0,200}$/),
  )
  .map((value) => ({ kind: "raw", values: [value] }));

/** Mostly a valid token of the right audience (so the body is what is tested), else every way auth goes wrong. */
function authFor(audience: "callback" | "broker", repository: string): fc.Arbitrary<AuthSpec> {
  return fc.oneof(
    { weight: 10, arbitrary: fc.constant<AuthSpec>({ kind: "oidc", audience, repository }) },
    { weight: 1, arbitrary: fc.constant<AuthSpec>({ kind: "none" }) },
    { weight: 1, arbitrary: rawAuthorization },
    {
      weight: 2,
      arbitrary: fc
        .record({
          audience: fc.constantFrom<"callback" | "broker" | "other">("callback", "broker", "other"),
          repository: fc.constantFrom(repository, repository.toUpperCase(), "someone/else", "", "a/b/c"),
          forge: fc.option(
            fc.constantFrom<"other-key" | "unknown-kid" | "alg-none" | "hs256-with-public-key">(
              "other-key",
              "unknown-kid",
              "alg-none",
              "hs256-with-public-key",
            ),
            { nil: undefined },
          ),
          omit: fc.option(fc.subarray(["repository", "iat", "exp", "jti", "sub"], { minLength: 1 }), {
            nil: undefined,
          }),
          twice: fc.boolean(),
        })
        .map((spec) => ({ kind: "oidc" as const, ...spec })),
    },
  );
}

function jsonPost(
  documented: string,
  shaped: fc.Arbitrary<Record<string, unknown>>,
  auth: fc.Arbitrary<AuthSpec>,
): fc.Arbitrary<FuzzRequest> {
  return fc
    .record({
      method: methodFor("POST"),
      path: pathVariant(documented),
      body: bodySpec(shaped),
      auth,
      extra: strayHeaders,
    })
    .map(({ method, path, body, auth, extra }) => {
      const sent = withBody(body, extra);
      return {
        method,
        path,
        headers: sent.headers,
        auth,
        body: sent.body,
        offRoute: offRoute(method, "POST", path, documented),
      };
    });
}

function callbackRequest(templates: FuzzTemplates): fc.Arbitrary<FuzzRequest> {
  const workflow = {
    schema_version: "1",
    status: "in_progress",
    conclusion: null,
    scope: "job",
    name: "CI",
    url: "https://github.com/o/r/actions/runs/1",
    run_id: "1",
    run_attempt: "1",
    job_name: "build",
    test_results: { passed: 1, failed: 0, skipped: 0 },
    summary: "ok",
  };
  const shaped = fc
    .record({
      token: fc.constantFrom(...templates.relayTokens),
      runId: fc.integer({ min: 1, max: 50 }),
      status: fc.constantFrom("in_progress", "completed", "queued", "IN_PROGRESS", ""),
      conclusion: fc.constantFrom(null, "success", "failure", "cancelled", "timed_out", "bogus"),
      eventType: fc.constantFrom("pull_request", "push", "nightly", "periodic", "x"),
      deliveryId: fc.uuid(),
    })
    .chain(({ token, runId, status, conclusion, eventType, deliveryId }) =>
      mutated({
        relay_token: token,
        event_type: eventType,
        delivery_id: eventType === "nightly" || eventType === "periodic" ? "a".repeat(40) : deliveryId,
        workflow: { ...workflow, status, conclusion, run_id: String(runId) },
      }),
    );
  return jsonPost("/relay/v1/callback", shaped, authFor("callback", templates.callbackRepository));
}

const operations = [
  "github.auth.status",
  "github.issue.list",
  "github.issue.read",
  "github.pr.list",
  "github.pr.read",
  "github.pr.create",
  "github.pr.comment.create",
];

function brokerGhRequest(templates: FuzzTemplates): fc.Arbitrary<FuzzRequest> {
  const shaped = fc
    .record({
      operation: fc.oneof(
        { weight: 6, arbitrary: fc.constantFrom(...operations) },
        { weight: 1, arbitrary: fc.constantFrom("github.raw", "github.issue.delete", "", "../github.pr.read") },
      ),
      repo: fc.constantFrom(templates.upstream, templates.upstream.toUpperCase(), "other/repo", "a/b/c", "", "../x"),
      dryRun: fc.constantFrom(true, false, "false", null),
      number: fc.constantFrom(1, 59, -1, 0, 1e20, "1", null),
      requestId: fc.uuid(),
    })
    .chain(({ operation, repo, dryRun, number, requestId }) =>
      mutated({
        requestId,
        caller: { plane: "ci", taskId: null, queueId: null },
        repo,
        operation,
        dryRun,
        params: {
          number,
          jsonFields: ["title", "state", "body"],
          title: "t",
          body: "b",
          head: "feature",
          base: "main",
        },
      }),
    );
  return jsonPost("/relay/v1/github/gh", shaped, authFor("broker", templates.brokerRepository));
}

function brokerPreflightRequest(templates: FuzzTemplates): fc.Arbitrary<FuzzRequest> {
  const shaped = fc
    .record({
      repo: fc.constantFrom(templates.upstream, "other/repo", "", "a/b/c"),
      base: fc.constantFrom("main", "", "refs/heads/main", "a".repeat(300), "..", "main\u0000"),
      issueNumber: fc.constantFrom(undefined, 1, -1, "1", null, 2 ** 53),
      requestId: fc.uuid(),
    })
    .chain(({ repo, base, issueNumber, requestId }) =>
      mutated({
        requestId,
        repo,
        base,
        head: "feature",
        issueNumber,
        includePrCreateDryRun: true,
        includePushDryRun: false,
      }),
    );
  return jsonPost("/relay/v1/github/pr-preflight", shaped, authFor("broker", templates.brokerRepository));
}

/** A query value as a client (or an attacker) might spell it: plain, encoded, broken encodings, huge. */
const queryValue = fc.oneof(
  fc.string({ maxLength: 40 }).map(encodeURIComponent),
  fc.integer().map(String),
  fc.constantFrom(
    "",
    "%",
    "%zz",
    "%E0%A4%A",
    "%00",
    "-1",
    "0",
    "1e309",
    "NaN",
    "9".repeat(400),
    "pytorch%2Fpytorch",
    "pytorch/pytorch",
    "a".repeat(9_000),
    "[]",
    "%5B%5D",
    "+",
    "%2B",
  ),
);

function getRequest(documented: string, keys: string[]): fc.Arbitrary<FuzzRequest> {
  const pair = fc.tuple(
    fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...keys) },
      { weight: 1, arbitrary: fc.string({ maxLength: 10 }).map(encodeURIComponent) },
    ),
    queryValue,
  );
  const key = (name: string) => fc.constantFrom(name, `${name}[]`, `${name}[a]`, `${name}.x`);
  const query = fc.oneof(
    fc.array(pair, { maxLength: 6 }).map((pairs) => pairs.map(([k, v]) => `${k}=${v}`).join("&")),
    fc
      .array(fc.tuple(key(keys[0] ?? "x"), queryValue), { maxLength: 3 })
      .map((pairs) => pairs.map(([k, v]) => `${k}=${v}`).join("&")),
    fc.constantFrom("", "&&&", "=", "a", "a=b=c", "%", "__proto__[x]=1", "constructor[prototype][x]=1"),
  );
  return fc
    .record({
      method: methodFor("GET"),
      path: pathVariant(documented),
      query: fc.option(query, { freq: 6 }),
      accept: fc.option(
        fc.constantFrom(
          "application/json",
          "text/html",
          "*/*",
          "text/plain;q=0.1",
          "application/openmetrics-text; version=1.0.0",
          "",
        ),
        { freq: 2 },
      ),
      extra: strayHeaders,
      body: fc.option(fc.string({ maxLength: 100 }), { freq: 10 }),
    })
    .map(({ method, path, query, accept, extra, body }) => {
      const headers: [string, string][] = [...extra];
      if (accept !== null) headers.push(["accept", accept]);
      const target = query === null || path.includes("?") ? path : `${path}?${query}`;
      return {
        method,
        path: target,
        headers,
        auth: { kind: "none" },
        body: body === null ? null : Buffer.from(body),
        offRoute: offRoute(method, "GET", path, documented),
      };
    });
}

/** The arbitrary of requests for one endpoint. */
export function requestsFor(endpoint: FuzzEndpoint, templates: FuzzTemplates): fc.Arbitrary<FuzzRequest> {
  switch (endpoint) {
    case "webhook-signed":
      return webhookRequest(templates, true);
    case "webhook-unsigned":
      return webhookRequest(templates, false);
    case "callback":
      return callbackRequest(templates);
    case "broker-gh":
      return brokerGhRequest(templates);
    case "broker-pr-preflight":
      return brokerPreflightRequest(templates);
    case "health":
      return getRequest("/relay/health", ["verbose", "check", "format"]);
    case "runs":
      return getRequest("/relay/v1/runs", ["upstream", "sha", "pr", "limit", "cursor", "repo", "downstream"]);
    case "dashboard":
      return getRequest("/relay/", ["upstream", "sha", "pr", "limit"]);
    case "metrics":
      return getRequest("/relay/metrics", ["name[]", "format"]);
  }
}
