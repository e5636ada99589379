import { createHash, randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "@jest/globals";
import type { AuditRecord } from "../../src/audit/audit-record";
import type { PlannedRequest } from "../../src/broker/plan-request";
import type { FailureBody } from "../../src/errors/failure-kinds";
import { startFakeGitHub, type FakeGitHub } from "../support/fake-github";
import type { HealthBody } from "../support/health-answer";
import { startOidcIssuer, type MintOptions, type OidcIssuer } from "../support/oidc-issuer";
import { parseJson, readJson } from "../support/read-json";
import { respellings } from "../support/respell-jwt";
import { cleanupRedisPrefix, startRelayServer, type RelayServer } from "../support/server-harness";

const UPSTREAM = "pytorch/pytorch";
const ALL_OPERATIONS = [
  "github.auth.status",
  "github.issue.list",
  "github.issue.read",
  "github.pr.list",
  "github.pr.read",
  "github.pr.create",
  "github.pr.comment.create",
];

/** octo-org/downstream is the issuer's default identity; dry-runner holds dry-run-only grants. */
const CONFIG = `
version: 1
upstreams: [${UPSTREAM}]
downstreams:
  - { repo: octo-org/downstream, level: L1 }
broker:
  - caller: { repository: Octo-Org/Downstream, repository_id: "123456789", workflow_ref: "*", event_name: [repository_dispatch, push] }
    repos: [${UPSTREAM}]
    operations: [${ALL_OPERATIONS.join(", ")}]
    live: [github.pr.comment.create, github.pr.create]
  - caller: { repository: octo-org/dry-runner }
    repos: [${UPSTREAM}]
    operations: [github.issue.read, github.pr.comment.create]
  - caller: { repository: octo-org/pinned, workflow_ref: "Octo-Org/Pinned/.github/workflows/*@refs/heads/main", ref: "refs/heads/*" }
    repos: [${UPSTREAM}]
    operations: [github.issue.read]
`;

/**
 * A broker answer (SPEC §4.1): `data` (what the operation read or wrote, shaped per operation) or
 * `planned` (a dry run's write) when ok, the SPEC §5 fields when refused.
 */
type BrokerBody<Data> = Partial<Omit<FailureBody, "ok">> & {
  ok: boolean;
  data?: Data;
  planned?: PlannedRequest;
  idempotentReplay?: boolean;
};

interface Answer<Data = unknown> {
  status: number;
  body: BrokerBody<Data>;
}

describe("broker end to end (real server, fake GitHub, local OIDC issuer)", () => {
  let github: FakeGitHub;
  let issuer: OidcIssuer;
  let relay: RelayServer;
  let auditDir: string;
  const tokensUsed: string[] = [];
  let brokerRequestsSent = 0;
  /** Two published keys share this kid (SPEC §4.1); tokens are signed by the second unless a test says. */
  let sharedKid: string;

  async function brokerToken(claims: Record<string, unknown> = {}, options: MintOptions = {}): Promise<string> {
    const token = await issuer.mint(claims, { audience: "ci-relay-broker", ...options });
    tokensUsed.push(token);
    return token;
  }

  async function post<Data = unknown>(path: string, body: unknown, token: string | null): Promise<Answer<Data>> {
    brokerRequestsSent++;
    const response = await fetch(relay.url(path), {
      method: "POST",
      headers: { "content-type": "application/json", ...(token === null ? {} : { authorization: `Bearer ${token}` }) },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: await readJson<BrokerBody<Data>>(response) };
  }

  const request = (operation: string, params: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) => ({
    requestId: randomUUID(),
    caller: { plane: "ci", taskId: "task-1", queueId: null },
    repo: UPSTREAM,
    operation,
    params,
    ...extra,
  });

  async function gh<Data = unknown>(body: unknown, token?: string | null): Promise<Answer<Data>> {
    return post<Data>("/relay/v1/github/gh", body, token === undefined ? await brokerToken() : token);
  }

  function auditRecords(): AuditRecord[] {
    let text: string;
    try {
      text = readFileSync(join(auditDir, "audit.jsonl"), "utf8");
    } catch {
      return [];
    }
    return text
      .split("\n")
      .filter(Boolean)
      .map((line) => parseJson<AuditRecord>(line));
  }

  async function auditFor(requestId: string): Promise<AuditRecord> {
    for (let i = 0; i < 100; i++) {
      const found = auditRecords().filter((r) => r.requestId === requestId);
      if (found.length > 0) return found[0];
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`no audit record for ${requestId}`);
  }

  beforeAll(async () => {
    github = await startFakeGitHub();
    github.addInstallation({ id: 11, account: "pytorch", repos: [UPSTREAM, "pytorch/vision"] });
    github.setIssue(UPSTREAM, { number: 59, title: "Flaky test on NPU", body: "details", labels: ["bug"] });
    github.setPull(UPSTREAM, { number: 60, title: "Fix NPU dispatch", head: { ref: "npu-fix" } });
    issuer = await startOidcIssuer();
    sharedKid = issuer.signingKid;
    await issuer.addKey({ kid: sharedKid, sign: true });
    auditDir = mkdtempSync(join(tmpdir(), "ci-relay-audit-"));
    relay = await startRelayServer({
      fakeGitHub: github,
      configYaml: CONFIG,
      env: { OIDC_ISSUER: issuer.url, AUDIT_LOG: join(auditDir, "audit.jsonl") },
    });
  });

  afterAll(async () => {
    await relay?.stop();
    await cleanupRedisPrefix(relay?.redisPrefix ?? "");
    await github?.close();
    await issuer?.close();
    rmSync(auditDir, { recursive: true, force: true });
  });

  describe("operations", () => {
    it("github.auth.status probes the rate limit and the repository", async () => {
      const answer = await gh<{ rateLimit: unknown }>(request("github.auth.status"));
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ ok: true, operation: "github.auth.status", repo: UPSTREAM, dryRun: false });
      expect(answer.body.data).toMatchObject({ authenticated: true, repository: { full_name: UPSTREAM } });
      expect(answer.body.data?.rateLimit).toHaveProperty("remaining");
    });

    it("github.issue.read answers the issue reduced to jsonFields", async () => {
      const body = request("github.issue.read", { number: 59, jsonFields: ["title", "state", "body"] });
      const answer = await gh(body);
      expect(answer).toEqual({
        status: 200,
        body: {
          ok: true,
          requestId: body.requestId,
          operation: "github.issue.read",
          repo: UPSTREAM,
          dryRun: false,
          data: { title: "Flaky test on NPU", state: "open", body: "details" },
        },
      });
    });

    it("github.issue.list and github.pr.list answer lists", async () => {
      const issues = await gh(request("github.issue.list", { state: "all", jsonFields: ["number"] }));
      expect(issues.status).toBe(200);
      expect(issues.body.data).toEqual(expect.arrayContaining([{ number: 59 }, { number: 60 }]));
      const pulls = await gh(request("github.pr.list", { jsonFields: ["number", "title"] }));
      expect(pulls.status).toBe(200);
      expect(pulls.body.data).toEqual([{ number: 60, title: "Fix NPU dispatch" }]);
    });

    it("github.pr.read answers the pull request", async () => {
      const answer = await gh(request("github.pr.read", { number: 60 }));
      expect(answer.status).toBe(200);
      expect(answer.body.data).toMatchObject({ number: 60, head: { ref: "npu-fix" } });
    });

    it("github.pr.create plans by default and writes nothing", async () => {
      const before = github.requestsTo("POST", "/repos/{owner}/{repo}/pulls").length;
      const body = request("github.pr.create", { title: "Bump", head: "bump-1", base: "main", body: "why" });
      const answer = await gh(body);
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({
        ok: true,
        dryRun: true,
        writesRemote: false,
        planned: { method: "POST", path: `/repos/${UPSTREAM}/pulls` },
      });
      expect(answer.body.planned?.bodySha256).toMatch(/^[0-9a-f]{64}$/);
      expect(answer.body.planned?.bodyLength).toBeGreaterThan(0);
      expect(github.requestsTo("POST", "/repos/{owner}/{repo}/pulls")).toHaveLength(before);
      const audit = await auditFor(body.requestId);
      expect({ length: audit.bodyLength, sha: audit.bodySha256 }).toEqual({
        length: answer.body.planned?.bodyLength,
        sha: answer.body.planned?.bodySha256,
      });
    });

    it("github.pr.create live opens the PR once, sending exactly what was planned", async () => {
      const planned = request("github.pr.create", { title: "Bump", head: "bump-2", base: "main", body: "why" });
      const plan = await gh(planned);
      const answer = await gh({ ...planned, dryRun: false });
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({
        ok: true,
        dryRun: false,
        writesRemote: true,
        data: { title: "Bump", head: { ref: "bump-2" } },
      });
      const sent = github
        .requestsTo("POST", "/repos/{owner}/{repo}/pulls")
        .filter((r) => (r.body as { head?: string } | null)?.head === "bump-2");
      expect(sent).toHaveLength(1);
      expect(createHash("sha256").update(sent[0].rawBody).digest("hex")).toBe(plan.body.planned?.bodySha256);
      expect((sent[0].body as { body: string }).body).toContain(`<!-- ci-relay:${planned.requestId} -->`);
    });

    it("github.pr.comment.create live posts the comment", async () => {
      const answer = await gh(
        request("github.pr.comment.create", { number: 60, body: "NPU CI passed" }, { dryRun: false }),
      );
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ ok: true, writesRemote: true });
      expect(github.comments(UPSTREAM, 60).filter((c) => c.body.startsWith("NPU CI passed"))).toHaveLength(1);
    });
  });

  describe("idempotent live writes", () => {
    it("a retried request comments once and answers the first result", async () => {
      const body = request("github.pr.comment.create", { number: 59, body: "retried" }, { dryRun: false });
      const first = await gh(body);
      const second = await gh(body);
      expect(first.status).toBe(200);
      expect(second.status).toBe(200);
      expect(second.body).toEqual({ ...first.body, idempotentReplay: true });
      expect(github.comments(UPSTREAM, 59).filter((c) => c.body.startsWith("retried"))).toHaveLength(1);
    });

    it("two concurrent identical requests comment once", async () => {
      github.delayNext({ method: "POST", path: "/repos/{owner}/{repo}/issues/{n}/comments", ms: 400 });
      const body = request("github.pr.comment.create", { number: 59, body: "concurrent" }, { dryRun: false });
      const [a, b] = await Promise.all([
        gh<{ id: number }>(body, await brokerToken()),
        gh<{ id: number }>(body, await brokerToken()),
      ]);
      expect([a.status, b.status]).toEqual([200, 200]);
      expect([a.body.idempotentReplay, b.body.idempotentReplay].filter(Boolean)).toHaveLength(1);
      expect(a.body.data?.id).toEqual(expect.any(Number));
      expect(a.body.data?.id).toBe(b.body.data?.id);
      expect(github.comments(UPSTREAM, 59).filter((c) => c.body.startsWith("concurrent"))).toHaveLength(1);
    });

    it("a write whose marker is already on GitHub (an attempt whose answer was lost) is not repeated", async () => {
      const body = request("github.pr.comment.create", { number: 59, body: "lost answer" }, { dryRun: false });
      const marker = `<!-- ci-relay:${body.requestId} -->`;
      // The earlier attempt's comment, carrying this request's marker, reached GitHub; its result never reached the store.
      await gh(
        request("github.pr.comment.create", { number: 59, body: `lost answer\n\n${marker}` }, { dryRun: false }),
      );
      const before = github.requestsTo("POST", "/repos/{owner}/{repo}/issues/{n}/comments").length;
      const retried = await gh<{ body: string }>(body);
      expect(retried.status).toBe(200);
      expect(retried.body.data?.body).toContain(marker);
      expect(github.requestsTo("POST", "/repos/{owner}/{repo}/issues/{n}/comments")).toHaveLength(before);
      expect(github.comments(UPSTREAM, 59).filter((c) => c.body.includes(marker))).toHaveLength(1);
    });
  });

  describe("denials", () => {
    const expectDenied = (answer: Answer, status: number, failureKind: string) => {
      expect({ status: answer.status, failureKind: answer.body.failureKind, ok: answer.body.ok }).toEqual({
        status,
        failureKind,
        ok: false,
      });
    };

    it("an identity without a grant is caller-not-allowed", async () => {
      expectDenied(
        await gh(request("github.issue.read", { number: 59 }), await brokerToken({ repository: "evil/fork" })),
        403,
        "caller-not-allowed",
      );
      expectDenied(
        await gh(request("github.issue.read", { number: 59 }), await brokerToken({ repository_id: "1" })),
        403,
        "caller-not-allowed",
      );
      expectDenied(
        await gh(
          request("github.issue.read", { number: 59 }),
          await brokerToken({ event_name: "pull_request_target" }),
        ),
        403,
        "caller-not-allowed",
      );
    });

    it.each([
      [
        "a workflow directly in .github/workflows on main",
        "Octo-Org/Pinned/.github/workflows/any.yml@refs/heads/main",
        "refs/heads/main",
        200,
      ],
      [
        "the pinned owner/repo in another letter case",
        "OCTO-ORG/pinned/.github/workflows/any.yml@refs/heads/main",
        "refs/heads/main",
        200,
      ],
      [
        "a branch named attacker@refs/heads/main",
        "Octo-Org/Pinned/.github/workflows/evil.yml@refs/heads/attacker@refs/heads/main",
        "refs/heads/attacker@refs/heads/main",
        403,
      ],
      [
        "a workflow below .github/workflows",
        "Octo-Org/Pinned/.github/workflows/sub/evil.yml@refs/heads/main",
        "refs/heads/main",
        403,
      ],
      [
        "a file name holding %40, a literal and no separator",
        "Octo-Org/Pinned/.github/workflows/a%40b.yml@refs/heads/main",
        "refs/heads/main",
        200,
      ],
      [
        "%40 and %2F smuggling the pinned ref",
        "Octo-Org/Pinned/.github/workflows/evil.yml%40refs%2Fheads%2Fmain@refs/heads/attacker",
        "refs/heads/attacker",
        403,
      ],
      [
        "%40 standing for the separator",
        "Octo-Org/Pinned/.github/workflows/evil.yml%40refs/heads/main",
        "refs/heads/main",
        403,
      ],
      [
        "the branch Main, not main",
        "Octo-Org/Pinned/.github/workflows/any.yml@refs/heads/Main",
        "refs/heads/Main",
        403,
      ],
      [
        "a nested branch under the ref pin",
        "Octo-Org/Pinned/.github/workflows/any.yml@refs/heads/main",
        "refs/heads/a/b",
        403,
      ],
      [
        "a newline after the ref",
        "Octo-Org/Pinned/.github/workflows/any.yml@refs/heads/main\n",
        "refs/heads/main",
        403,
      ],
    ])("a workflow_ref pin admits or refuses %s (SPEC §2 patterns)", async (_name, workflowRef, ref, status) => {
      const token = await brokerToken({ repository: "octo-org/pinned", workflow_ref: workflowRef, ref });
      const answer = await gh(request("github.issue.read", { number: 59 }), token);
      if (status === 200) expect(answer.status).toBe(200);
      else expectDenied(answer, 403, "caller-not-allowed");
    });

    it("a repository outside the grant is repo-not-allowed", async () => {
      expectDenied(
        await gh({ ...request("github.issue.read", { number: 1 }), repo: "pytorch/vision" }),
        403,
        "repo-not-allowed",
      );
    });

    it("an operation outside the grant is operation-not-allowed", async () => {
      expectDenied(
        await gh(request("github.pr.read", { number: 60 }), await brokerToken({ repository: "octo-org/dry-runner" })),
        403,
        "operation-not-allowed",
      );
    });

    it("an operation outside the table is operation-not-allowed", async () => {
      expectDenied(await gh(request("github.repo.delete")), 403, "operation-not-allowed");
      expectDenied(await gh(request("__proto__")), 403, "operation-not-allowed");
    });

    it("raw paths, URLs and argv in params are refused", async () => {
      expectDenied(
        await gh(request("github.issue.read", { number: 59, path: "/repos/pytorch/pytorch/hooks" })),
        400,
        "validation-failed",
      );
      expectDenied(await gh(request("github.auth.status", { argv: ["api", "/user"] })), 400, "validation-failed");
      expectDenied(
        await gh({ ...request("github.issue.read", { number: 59 }), url: "https://api.github.com/user" }),
        400,
        "validation-failed",
      );
    });

    it("a live write without a live grant is dry-run-required", async () => {
      const before = github.comments(UPSTREAM).length;
      const token = await brokerToken({ repository: "octo-org/dry-runner" });
      expectDenied(
        await gh(request("github.pr.comment.create", { number: 59, body: "x" }, { dryRun: false }), token),
        409,
        "dry-run-required",
      );
      expect(github.comments(UPSTREAM)).toHaveLength(before);
    });

    it("a token used twice is token-replayed", async () => {
      const token = await brokerToken();
      expect((await gh(request("github.issue.read", { number: 59 }), token)).status).toBe(200);
      expectDenied(await gh(request("github.issue.read", { number: 59 }), token), 401, "token-replayed");
    });

    it("a token with an empty jti is token-invalid every time, never accepted once", async () => {
      for (let i = 0; i < 2; i++) {
        const answer = await gh(request("github.issue.read", { number: 59 }), await brokerToken({ jti: "" }));
        expectDenied(answer, 401, "token-invalid");
        expect(answer.body.degradedReason).toBe("claims-invalid");
      }
    });

    it("a token spelled other than as it was signed is token-invalid, and does not use up its jti", async () => {
      const token = await brokerToken();
      for (const [, variant] of respellings(token).filter(([, t]) => !/\s/.test(t))) {
        const answer = await gh(request("github.issue.read", { number: 59 }), variant);
        // `=` inside a bearer already breaks RFC 6750's grammar; every other respelling reaches the verifier
        const refusal = variant
          .split(".")
          .slice(0, 2)
          .some((segment) => segment.endsWith("="))
          ? { failureKind: "unauthorized-caller", degradedReason: "bearer-unusable" }
          : { failureKind: "token-invalid", degradedReason: "token-malformed" };
        expect({ status: answer.status, ...refusal }).toEqual({
          status: 401,
          failureKind: answer.body.failureKind,
          degradedReason: answer.body.degradedReason,
        });
      }
      expect((await gh(request("github.issue.read", { number: 59 }), token)).status).toBe(200);
    });

    it("tokens of either of two keys under one kid are accepted", async () => {
      expect((await gh(request("github.issue.read", { number: 59 }), await brokerToken())).status).toBe(200);
      expect(
        (await gh(request("github.issue.read", { number: 59 }), await brokerToken({}, { kid: sharedKid }))).status,
      ).toBe(200);
    });

    it("a callback-audience token is token-invalid", async () => {
      expectDenied(
        await gh(
          request("github.issue.read", { number: 59 }),
          await brokerToken({}, { audience: "ci-relay-callback" }),
        ),
        401,
        "token-invalid",
      );
    });

    it.each(["other-key", "alg-none", "hs256-with-public-key", "unknown-kid"] as const)(
      "a forged token (%s) is token-invalid",
      async (forge) => {
        expectDenied(
          await gh(request("github.issue.read", { number: 59 }), await brokerToken({}, { forge })),
          401,
          "token-invalid",
        );
      },
    );

    it("an expired token is token-invalid", async () => {
      const token = await brokerToken({}, { now: new Date(Date.now() - 20 * 60_000) });
      expectDenied(await gh(request("github.issue.read", { number: 59 }), token), 401, "token-invalid");
    });

    it("a request without a bearer is unauthorized-caller", async () => {
      expectDenied(await gh(request("github.issue.read", { number: 59 }), null), 401, "unauthorized-caller");
    });

    it("an oversized body is payload-too-large", async () => {
      expectDenied(
        await gh(request("github.pr.comment.create", { number: 59, body: "x".repeat(70 * 1024) })),
        413,
        "payload-too-large",
      );
    });
  });

  describe("GitHub failures", () => {
    it("maps a missing resource to repo-not-found, a 5xx to github-egress-failed and a rate limit to github-rate-limited", async () => {
      expect((await gh(request("github.issue.read", { number: 9999 }))).body.failureKind).toBe("repo-not-found");
      github.failNext({ method: "GET", path: "/repos/{owner}/{repo}/issues/{n}", status: 502 });
      expect((await gh(request("github.issue.read", { number: 59 }))).body.failureKind).toBe("github-egress-failed");
      github.failNext({
        method: "GET",
        path: "/repos/{owner}/{repo}/issues/{n}",
        status: 403,
        headers: { "x-ratelimit-remaining": "0", "retry-after": "3600" },
      });
      const limited = await gh(request("github.issue.read", { number: 59 }));
      expect({ status: limited.status, kind: limited.body.failureKind }).toEqual({
        status: 429,
        kind: "github-rate-limited",
      });
    });
  });

  describe("credentials", () => {
    it("scopes every broker token to the one repository and the operation's least permissions", async () => {
      const brokerTokens = github.issuedTokens().filter((t) => t.installationId === 11);
      expect(brokerTokens.length).toBeGreaterThan(0);
      for (const token of brokerTokens) expect(token.repositories).toEqual([UPSTREAM]);
      const permissionSets = brokerTokens.map((t) => JSON.stringify(t.permissions)).sort();
      expect([...new Set(permissionSets)]).toEqual(
        [
          { issues: "read" },
          { issues: "write" },
          { metadata: "read" },
          { pull_requests: "read" },
          { pull_requests: "write" },
        ]
          .map((p) => JSON.stringify(p))
          .sort(),
      );
    });

    it("health lists the broker operations and reveals no key material", async () => {
      const response = await fetch(relay.url("/relay/health"));
      const body = await readJson<HealthBody>(response);
      expect(body.capabilities).toEqual(expect.arrayContaining([...ALL_OPERATIONS, "github.pr.preflight"]));
      expect(JSON.stringify(body)).not.toContain("PRIVATE KEY");
    });
  });

  describe("pr-preflight", () => {
    it("answers the SPEC shape for a granted caller", async () => {
      const requestId = randomUUID();
      const answer = await post(
        "/relay/v1/github/pr-preflight",
        {
          requestId,
          repo: UPSTREAM,
          base: "main",
          head: "npu-fix",
          includePrCreateDryRun: true,
          includePushDryRun: true,
        },
        await brokerToken(),
      );
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({
        ok: true,
        requestId,
        failureKind: null,
        tokenCoverage: {
          ok: true,
          source: "ci-relay",
          scope: "app-installation",
          runnerEnvTokenRequired: false,
          valuesPrinted: false,
        },
        prCapabilityContract: {
          targetBranch: "main",
          systemGhBinaryRequiredForWrites: false,
          preflightCreatesPr: false,
          preflightMergesPr: false,
          brokerProxy: { ok: true, operations: [...ALL_OPERATIONS].sort(), writesRemote: false },
        },
        pushDryRun: { runnerLocal: true },
        prCreateDryRun: { ok: true, writesRemote: false, live: true },
      });
    });

    it("refuses a caller without a grant on the repository", async () => {
      const answer = await post(
        "/relay/v1/github/pr-preflight",
        { requestId: randomUUID(), repo: "pytorch/vision", base: "main", head: "x" },
        await brokerToken(),
      );
      expect({ status: answer.status, kind: answer.body.failureKind }).toEqual({
        status: 403,
        kind: "repo-not-allowed",
      });
    });
  });

  describe("audit", () => {
    it("writes one complete record per broker request, accepted or not", async () => {
      const accepted = request("github.issue.read", { number: 59 });
      await gh(accepted);
      const denied = request("github.pr.read", { number: 60 });
      await gh(denied, await brokerToken({ repository: "octo-org/dry-runner" }));
      const ok = await auditFor(accepted.requestId);
      expect(ok).toMatchObject({
        requestId: accepted.requestId,
        endpoint: "/relay/v1/github/gh",
        caller: { plane: "ci", taskId: "task-1", queueId: null },
        identity: { repository: "octo-org/downstream", repository_id: "123456789", run_id: "4242", run_attempt: "1" },
        operation: "github.issue.read",
        repo: UPSTREAM,
        resource: "issue/59",
        dryRun: false,
        credentialValuePrinted: false,
        upstream: { method: "GET", path: `/repos/${UPSTREAM}/issues/59` },
        status: 200,
        ok: true,
        failureKind: null,
        redaction: { valuesPrinted: false },
      });
      expect(ok.identity.jti).toEqual(expect.any(String));
      expect(ok.bodySha256).toMatch(/^[0-9a-f]{64}$/);
      expect(await auditFor(denied.requestId)).toMatchObject({
        ok: false,
        status: 403,
        failureKind: "operation-not-allowed",
        runnerDisposition: "business-failed",
        retryable: false,
      });
      // every request this suite sent, accepted or refused, and nothing else
      for (let i = 0; i < 100 && auditRecords().length < brokerRequestsSent; i++)
        await new Promise((resolve) => setTimeout(resolve, 50));
      expect(auditRecords()).toHaveLength(brokerRequestsSent);
    });

    it("never writes a token to the audit log or the server logs", async () => {
      const audit = readFileSync(join(auditDir, "audit.jsonl"), "utf8");
      const logs = relay.logs();
      expect(tokensUsed.length).toBeGreaterThan(0);
      const installationTokens = github.issuedTokens().map((t) => t.token);
      for (const secret of [...tokensUsed, ...installationTokens]) {
        expect(audit).not.toContain(secret);
        expect(logs).not.toContain(secret);
        // a signature alone is as good as the token to anyone who has seen the rest
        const signature = secret.split(".")[2];
        if (signature) expect(logs).not.toContain(signature);
      }
      expect(relay.logRecords().filter((r) => r.msg === "audit").length).toBeGreaterThan(0);
    });
  });
});
