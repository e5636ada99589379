import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "@jest/globals";
import type { AuditRecord } from "../../src/audit/audit-record";
import { mintRelayToken } from "../../src/auth/relay-token";
import { recordDispatchOps, type DispatchRecord } from "../../src/records/dispatches";
import { readJobsOf } from "../../src/records/jobs";
import { keys } from "../../src/records/keys";
import {
  callBack,
  dispatchPr,
  HUD_TOKEN,
  postCallback,
  RELAY_TOKEN_SECRET,
  startCallbackWorld,
  waitUntil,
  workflowReport,
  type Answer,
  type CallbackWorld,
  type Dispatched,
  type HudRow,
} from "../support/callback-world";
import { parseJson } from "../support/read-json";
import { respellings } from "../support/respell-jwt";

const CONFIG = `
version: 1
upstreams: [pytorch/pytorch]
downstreams:
  - { repo: Vendor/Backend, level: L2 }
  - { repo: quiet/observer, level: L1 }
  - repo: pinned/repo
    level: L2
    callers: { repository_id: "123456789", workflow_ref: "pinned/repo/.github/workflows/upstream.yml@refs/heads/*" }
  - { repo: crowd/repo, level: L2 }
  - { repo: pinned/workflows, level: L2, callers: { workflow_ref: "Pinned/Workflows/.github/workflows/*@refs/heads/main" } }
  - { repo: self/hosted, level: L2, transport: queue }
`;
const REPOS = ["Vendor/Backend", "quiet/observer", "pinned/repo", "crowd/repo", "pinned/workflows"];
const RATE_LIMIT = 40;

describe("callbacks end to end (real server, fake GitHub, local OIDC issuer, HUD sink, Redis)", () => {
  let world: CallbackWorld;
  let auditDir: string;
  let auditPath: string;
  /** every token the suite handed the relay: none may show in an answer, a log or an audit line */
  const secrets: string[] = [];

  beforeAll(async () => {
    auditDir = mkdtempSync(join(tmpdir(), "callback-audit-"));
    auditPath = join(auditDir, "audit.jsonl");
    world = await startCallbackWorld(CONFIG, REPOS, {
      AUDIT_LOG: auditPath,
      CALLBACK_RATE_LIMIT_PER_MINUTE: String(RATE_LIMIT),
    });
  });
  afterAll(async () => {
    await world?.close();
    rmSync(auditDir, { recursive: true, force: true });
  });

  const remember = <T extends string>(token: T): T => {
    secrets.push(token);
    return token;
  };
  const jobsOf = async (requestId: string) => (await readJobsOf(world.store, requestId, 100)).length;
  const hudRowsFor = (requestId: string) => world.hud.rows.filter((row) => row.body.trusted.request_id === requestId);

  it("carries an L2 job from dispatch through in progress to completed, with timings in the HUD", async () => {
    const { "Vendor/Backend": dispatched } = await dispatchPr(world, ["Vendor/Backend"]);
    remember(dispatched.callbackToken);

    const started = await callBack(world, dispatched, workflowReport(), "vendor/backend");
    expect(started.status).toBe(200);
    expect(started.json).toEqual({
      ok: true,
      requestId: expect.any(String),
      dispatchId: dispatched.requestId,
      state: "IN_PROGRESS",
      duplicate: false,
    });

    const finished = await callBack(
      world,
      dispatched,
      workflowReport({ status: "completed", conclusion: "success", test_results: { passed: 3, failed: 0 } }),
      "vendor/backend",
    );
    expect(finished.json).toMatchObject({ ok: true, state: "COMPLETED", duplicate: false });

    await waitUntil(() => hudRowsFor(dispatched.requestId).length === 2, 30_000, "two HUD rows");
    const statusOf = (row: HudRow) => String(row.body.untrusted.callback_payload.workflow.status);
    const [inProgress, completed] = hudRowsFor(dispatched.requestId).sort((a, b) =>
      statusOf(a) < statusOf(b) ? 1 : -1,
    );
    expect(inProgress.headers["x-hud-internal-bot"]).toBe(HUD_TOKEN);
    expect(inProgress.body.trusted).toMatchObject({
      verified_repo: "Vendor/Backend",
      downstream_repo_level: "L2",
      request_id: dispatched.requestId,
      upstream: {
        repo: "pytorch/pytorch",
        sha: dispatched.clientPayload.relay.upstream.sha,
        pr_number: dispatched.clientPayload.relay.upstream.pr_number,
      },
      ci_metrics: { queue_time: expect.any(Number), execution_time: null },
    });
    expect(completed.body.trusted).toMatchObject({
      ci_metrics: { queue_time: expect.any(Number), execution_time: expect.any(Number) },
    });
    expect(completed.body.untrusted.callback_payload).toMatchObject({
      event_type: "pull_request",
      delivery_id: dispatched.clientPayload.delivery_id,
      workflow: {
        status: "completed",
        conclusion: "success",
        job_name: "build",
        test_results: { passed: 3, failed: 0 },
      },
    });
    expect(JSON.stringify(completed.body)).not.toContain(dispatched.callbackToken);

    const again = await callBack(
      world,
      dispatched,
      workflowReport({ status: "completed", conclusion: "success" }),
      "vendor/backend",
    );
    expect(again.json).toMatchObject({ ok: true, duplicate: true, state: "COMPLETED" });
    const backwards = await callBack(world, dispatched, workflowReport(), "vendor/backend");
    expect(backwards.status).toBe(409);
    expect(backwards.json).toMatchObject({ ok: false, failureKind: "invalid-transition", degradedReason: "backwards" });
    const changedMind = await callBack(
      world,
      dispatched,
      workflowReport({ status: "completed", conclusion: "failure" }),
      "vendor/backend",
    );
    expect(changedMind.json).toMatchObject({
      failureKind: "invalid-transition",
      degradedReason: "conclusion-conflict",
    });
  });

  it("makes one transition of twenty identical callbacks sent at once", async () => {
    const { "crowd/repo": dispatched } = await dispatchPr(world, ["crowd/repo"]);
    remember(dispatched.callbackToken);
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => callBack(world, dispatched, workflowReport(), "crowd/repo")),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    expect(answers.filter((a) => a.json.duplicate === false)).toHaveLength(1);
    await waitUntil(() => hudRowsFor(dispatched.requestId).length === 1, 30_000, "a HUD row");
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // room for a wrongly doubled row to show
    expect(hudRowsFor(dispatched.requestId)).toHaveLength(1);
  });

  it("answers an L1 downstream's callback as ignored and keeps nothing", async () => {
    const { "quiet/observer": dispatched } = await dispatchPr(world, ["quiet/observer"]);
    remember(dispatched.callbackToken);
    const answer = await callBack(world, dispatched, workflowReport(), "quiet/observer");
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ ok: true, status: "ignored" });
    expect(await jobsOf(dispatched.requestId)).toBe(0);
  });

  describe("refuses every broken rule with its documented failure and no state change", () => {
    let victim: Dispatched;
    let pinned: Dispatched;
    const now = () => Math.floor(Date.now() / 1000);

    beforeAll(async () => {
      const dispatched = await dispatchPr(world, ["Vendor/Backend", "pinned/repo"]);
      victim = dispatched["Vendor/Backend"];
      pinned = dispatched["pinned/repo"];
      remember(victim.callbackToken);
      remember(pinned.callbackToken);
    });
    afterAll(async () => {
      expect(await jobsOf(victim.requestId)).toBe(0);
      expect(await jobsOf(pinned.requestId)).toBe(0);
      expect(hudRowsFor(victim.requestId)).toHaveLength(0);
    });

    const withOidc = async (oidc: string, relayToken = victim.callbackToken, workflow = workflowReport()) =>
      postCallback(world, { authorization: [`Bearer ${remember(oidc)}`], body: { relay_token: relayToken, workflow } });
    const mint = (claims: Record<string, unknown> = {}, options: Parameters<CallbackWorld["issuer"]["mint"]>[1] = {}) =>
      world.issuer.mint({ repository: "Vendor/Backend", ...claims }, options);

    const cases: [string, () => Promise<Pick<Answer, "status" | "json" | "text">>, number, string, string | null][] = [
      [
        "a token signed by another key",
        async () => withOidc(await mint({}, { forge: "other-key" })),
        401,
        "token-invalid",
        "signature-invalid",
      ],
      [
        "a token under an unknown kid",
        async () => withOidc(await mint({}, { forge: "unknown-kid" })),
        401,
        "token-invalid",
        "unknown-key",
      ],
      ["alg none", async () => withOidc(await mint({}, { forge: "alg-none" })), 401, "token-invalid", null],
      [
        "HS256 keyed with the public key",
        async () => withOidc(await mint({}, { forge: "hs256-with-public-key" })),
        401,
        "token-invalid",
        null,
      ],
      [
        "a wrong issuer",
        async () => withOidc(await mint({ iss: "https://token.actions.example" })),
        401,
        "token-invalid",
        "issuer-mismatch",
      ],
      [
        "a wrong audience",
        async () => withOidc(await mint({}, { audience: "someone-else" })),
        401,
        "token-invalid",
        "audience-mismatch",
      ],
      [
        "the broker audience",
        async () => withOidc(await mint({}, { audience: "ci-relay-broker" })),
        401,
        "token-invalid",
        "audience-mismatch",
      ],
      [
        "an expired token",
        async () => withOidc(await mint({ exp: now() - 120 })),
        401,
        "token-invalid",
        "token-expired",
      ],
      [
        "a token not valid yet",
        async () => withOidc(await mint({ nbf: now() + 600 })),
        401,
        "token-invalid",
        "token-not-yet-valid",
      ],
      [
        "a token issued too long ago",
        async () => withOidc(await mint({ iat: now() - 11 * 60, exp: now() + 300 })),
        401,
        "token-invalid",
        "token-too-old",
      ],
      [
        "a token missing repository",
        async () => withOidc(await mint({}, { omit: ["repository"] })),
        401,
        "token-invalid",
        "claims-missing",
      ],
      [
        "another repository's token",
        async () => withOidc(await mint({ repository: "vendor/backend-fork" })),
        401,
        "token-invalid",
        "repository-mismatch",
      ],
      [
        "a relay token for another downstream",
        async () => withOidc(await mint(), pinned.callbackToken),
        401,
        "token-invalid",
        "repository-mismatch",
      ],
      [
        "a pinned repository id that differs",
        async () => withOidc(await mint({ repository: "pinned/repo", repository_id: "1" }), pinned.callbackToken),
        401,
        "token-invalid",
        "repository-id-mismatch",
      ],
      [
        "a pinned workflow that differs",
        async () =>
          withOidc(
            await mint({
              repository: "pinned/repo",
              workflow_ref: "pinned/repo/.github/workflows/evil.yml@refs/heads/main",
            }),
            pinned.callbackToken,
          ),
        401,
        "token-invalid",
        "workflow-ref-mismatch",
      ],
      [
        "a tampered relay token",
        async () => withOidc(await mint(), tamper(victim.callbackToken)),
        401,
        "token-invalid",
        null,
      ],
      [
        "a relay token with `=` after its signature",
        async () => withOidc(await mint(), `${victim.callbackToken}=`),
        401,
        "token-invalid",
        "token-malformed",
      ],
      [
        "an OIDC token with `=` after its signature",
        async () => withOidc(`${await mint()}=`),
        401,
        "token-invalid",
        "token-malformed",
      ],
      [
        "an expired relay token",
        async () =>
          withOidc(await mint(), remember(await relayTokenFor(victim, new Date(Date.now() - 4 * 24 * 3600 * 1000)))),
        401,
        "token-invalid",
        "token-expired",
      ],
      [
        "a relay token for a dispatch never made",
        async () =>
          withOidc(
            await mint(),
            remember(await relayTokenFor({ ...victim, requestId: "00000000-0000-4000-8000-000000000000" })),
          ),
        404,
        "no-dispatch",
        null,
      ],
      [
        "no relay token",
        async () =>
          postCallback(world, {
            authorization: [`Bearer ${remember(await mint())}`],
            body: { workflow: workflowReport() },
          }),
        401,
        "unauthorized-caller",
        "relay-token-missing",
      ],
      [
        "no Authorization header",
        async () => postCallback(world, { body: { relay_token: victim.callbackToken, workflow: workflowReport() } }),
        401,
        "unauthorized-caller",
        "bearer-missing",
      ],
      [
        "two Authorization headers",
        async () => {
          const token = remember(await mint());
          return postCallback(world, {
            authorization: [`Bearer ${token}`, `Bearer ${token}`],
            body: { relay_token: victim.callbackToken, workflow: workflowReport() },
          });
        },
        401,
        "unauthorized-caller",
        "bearer-duplicated",
      ],
      [
        "a bearer over 8 KiB",
        async () => withOidc("a".repeat(9 * 1024)),
        401,
        "unauthorized-caller",
        "bearer-too-large",
      ],
      [
        "a body over 64 KiB",
        async () => withOidc(await mint(), victim.callbackToken, workflowReport({ summary: "x".repeat(65 * 1024) })),
        413,
        "payload-too-large",
        null,
      ],
      [
        "a body that is not JSON",
        async () => postCallback(world, { authorization: [`Bearer ${remember(await mint())}`], body: "{not json" }),
        400,
        "validation-failed",
        "malformed-json",
      ],
      [
        "an unknown status",
        async () => withOidc(await mint(), victim.callbackToken, workflowReport({ status: "queued" })),
        400,
        "validation-failed",
        "body-invalid",
      ],
      [
        "completed without a conclusion",
        async () => withOidc(await mint(), victim.callbackToken, workflowReport({ status: "completed" })),
        400,
        "validation-failed",
        null,
      ],
      [
        "a conclusion GitHub does not know",
        async () =>
          withOidc(await mint(), victim.callbackToken, workflowReport({ status: "completed", conclusion: "great" })),
        400,
        "validation-failed",
        null,
      ],
      [
        "a job report without job_name",
        async () => withOidc(await mint(), victim.callbackToken, workflowReport({ job_name: null })),
        400,
        "validation-failed",
        null,
      ],
      [
        "a body that is an array",
        async () => postCallback(world, { authorization: [`Bearer ${remember(await mint())}`], body: "[]" }),
        401,
        "unauthorized-caller",
        "relay-token-missing",
      ],
    ];

    it.each(cases)("%s", async (_name, send, status, failureKind, degradedReason) => {
      const answer = await send();
      expect(answer.status).toBe(status);
      expect(answer.json).toMatchObject({
        ok: false,
        failureKind,
        requestId: expect.any(String),
        runnerDisposition: expect.any(String),
        retryable: false,
      });
      if (degradedReason !== null) expect(answer.json.degradedReason).toBe(degradedReason);
      for (const secret of secrets) expect(answer.text).not.toContain(secret);
    });
  });

  it("refuses every other spelling of a valid relay token or OIDC token, and keeps nothing", async () => {
    const { "Vendor/Backend": dispatched } = await dispatchPr(world, ["Vendor/Backend"]);
    remember(dispatched.callbackToken);
    const send = (oidc: string, relayToken: string) =>
      postCallback(world, {
        authorization: [`Bearer ${oidc}`],
        body: { relay_token: relayToken, workflow: workflowReport() },
      });
    const refusals: string[] = [];
    for (const [name, relayToken] of respellings(dispatched.callbackToken)) {
      const answer = await send(remember(await world.issuer.mint({ repository: "Vendor/Backend" })), relayToken);
      if (answer.json.degradedReason !== "token-malformed") refusals.push(`relay token, ${name}: ${answer.status}`);
    }
    // A bearer cannot carry whitespace, nor `=` but at its end (RFC 6750): those stop at the bearer grammar.
    for (const [name, oidc] of respellings(remember(await world.issuer.mint({ repository: "Vendor/Backend" }))).filter(
      ([, t]) => !/\s/.test(t),
    )) {
      const answer = await send(oidc, dispatched.callbackToken);
      if (answer.status !== 401 || !["token-malformed", "bearer-unusable"].includes(answer.json.degradedReason ?? "")) {
        refusals.push(`OIDC token, ${name}: ${answer.status}`);
      }
    }
    expect(refusals).toEqual([]);
    expect(await jobsOf(dispatched.requestId)).toBe(0);
    expect((await callBack(world, dispatched, workflowReport(), "Vendor/Backend")).status).toBe(200);
  });

  describe("a workflow_ref pin of …/workflows/*@refs/heads/main (SPEC §2 patterns)", () => {
    let pinned: Dispatched;
    beforeAll(async () => {
      ({ "pinned/workflows": pinned } = await dispatchPr(world, ["pinned/workflows"]));
      remember(pinned.callbackToken);
    });
    const report = async (workflowRef: string) =>
      postCallback(world, {
        authorization: [
          `Bearer ${remember(await world.issuer.mint({ repository: "pinned/workflows", workflow_ref: workflowRef }))}`,
        ],
        body: { relay_token: pinned.callbackToken, workflow: workflowReport() },
      });

    it.each([
      [
        "a branch named attacker@refs/heads/main",
        "Pinned/Workflows/.github/workflows/evil.yml@refs/heads/attacker@refs/heads/main",
      ],
      ["a workflow below .github/workflows", "Pinned/Workflows/.github/workflows/sub/evil.yml@refs/heads/main"],
      [
        "%40 and %2F standing for separators",
        "Pinned/Workflows/.github/workflows/evil.yml%40refs%2Fheads%2Fmain@refs/heads/attacker",
      ],
      ["another branch of another letter case", "Pinned/Workflows/.github/workflows/ci.yml@refs/heads/Main"],
      ["a NUL before the ref", "Pinned/Workflows/.github/workflows/ci.yml\u0000@refs/heads/main"],
      ["another repository's workflow", "Pinned/Workflows-fork/.github/workflows/ci.yml@refs/heads/main"],
    ])("refuses %s", async (_name, workflowRef) => {
      const answer = await report(workflowRef);
      expect({ status: answer.status, degradedReason: answer.json.degradedReason }).toEqual({
        status: 401,
        degradedReason: "workflow-ref-mismatch",
      });
      expect(await jobsOf(pinned.requestId)).toBe(0);
    });

    it("admits a workflow directly in .github/workflows on main, its owner/repo in any letter case", async () => {
      const answer = await report("PINNED/workflows/.github/workflows/ci.yml@refs/heads/main");
      expect(answer.json).toMatchObject({ ok: true, state: "IN_PROGRESS", dispatchId: pinned.requestId });
    });
  });

  it("authenticates a queue downstream by its relay token alone, and refuses an OIDC bearer for it", async () => {
    const requestId = "5e1f0c3a-0000-4000-8000-00000000beef";
    const record: DispatchRecord = {
      requestId,
      deliveryId: "queue-delivery",
      event: "push",
      action: null,
      upstream: { repo: "pytorch/pytorch", sha: "b".repeat(40), ref: "refs/heads/main", prNumber: null },
      downstream: "self/hosted",
      level: "L2",
      transport: "queue",
      state: "dispatched",
      createdAt: Date.now() - 5_000,
      dispatchedAt: Date.now() - 5_000,
      lastError: null,
    };
    await world.store.write(recordDispatchOps(record));
    const relayToken = remember(
      await mintRelayToken(
        {
          sub: "self/hosted",
          jti: requestId,
          upstream: "pytorch/pytorch",
          sha: record.upstream.sha,
          pr: null,
          level: "L2",
          delivery: "queue-delivery",
        },
        [RELAY_TOKEN_SECRET],
      ),
    );
    const body = { relay_token: relayToken, workflow: workflowReport({ scope: "run", job_name: null }) };
    const oidc = remember(await world.issuer.mint({ repository: "self/hosted" }));
    const withOidc = await postCallback(world, { authorization: [`Bearer ${oidc}`], body });
    expect(withOidc.json).toMatchObject({ failureKind: "token-invalid", degradedReason: "bearer-not-relay-token" });
    const accepted = await postCallback(world, { authorization: [`Bearer ${relayToken}`], body });
    expect(accepted.json).toMatchObject({ ok: true, dispatchId: requestId, state: "IN_PROGRESS" });
  });

  it("limits callbacks per downstream repository with a retryable 429", async () => {
    const { "crowd/repo": dispatched } = await dispatchPr(world, ["crowd/repo"]);
    remember(dispatched.callbackToken);
    // A fixed window may roll over once during the loop: twice the limit plus one always crosses it.
    let limited: Answer | undefined;
    for (let i = 0; i <= 2 * RATE_LIMIT && limited === undefined; i++) {
      const answer = await callBack(world, dispatched, workflowReport({ job_name: `job-${i}` }), "crowd/repo");
      if (answer.status === 429) limited = answer;
      else expect(answer.status).toBe(200);
    }
    expect(limited?.json).toMatchObject({
      failureKind: "rate-limited",
      retryable: true,
      runnerDisposition: "infra-blocked",
    });
    // Whole seconds until the minute's window frees: at least one, at most the window.
    expect(limited?.headers["retry-after"]).toMatch(/^([1-9]|[1-5]\d|60)$/);
  });

  it("counts callbacks by outcome and times them in the metrics", async () => {
    const metrics = await (await fetch(world.relay.url("/relay/metrics"))).text();
    for (const outcome of ["accepted", "duplicate", "ignored", "token-invalid", "invalid-transition"]) {
      expect(metrics).toMatch(new RegExp(`ci_relay_callbacks_total\\{outcome="${outcome}"\\} [1-9]`));
    }
    expect(metrics).toMatch(/ci_relay_callback_handling_seconds_count [1-9]/);
  });

  it("writes one audit record per callback to AUDIT_LOG and relay:audit, never with a token", async () => {
    const { "Vendor/Backend": dispatched } = await dispatchPr(world, ["Vendor/Backend"]);
    remember(dispatched.callbackToken);
    const refusedAnswer = await callBack(world, dispatched, workflowReport(), "vendor/backend-fork");
    const acceptedAnswer = await callBack(
      world,
      dispatched,
      workflowReport({ status: "completed", conclusion: "success", run_id: "99" }),
      "vendor/backend",
    );
    const find = (requestId: string) => () =>
      readFileSync(auditPath, "utf8")
        .trimEnd()
        .split("\n")
        .map((line) => parseJson<AuditRecord>(line))
        .find((r) => r.requestId === requestId);
    await waitUntil(
      () => find(acceptedAnswer.json.requestId)() !== undefined && find(refusedAnswer.json.requestId)() !== undefined,
      30_000,
      "audit lines",
    );

    expect(find(refusedAnswer.json.requestId)()).toMatchObject({
      endpoint: "/relay/v1/callback",
      ok: false,
      status: 401,
      failureKind: "token-invalid",
      degradedReason: "repository-mismatch",
      identity: { repository: "vendor/backend-fork" },
      bodyLength: expect.any(Number),
      bodySha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      credentialValuePrinted: false,
      redaction: { valuesPrinted: false },
    });
    expect(find(acceptedAnswer.json.requestId)()).toMatchObject({
      ok: true,
      status: 200,
      operation: "callback.job.completed",
      identity: { repository: "vendor/backend", repository_id: "123456789", run_id: "4242" },
      repo: "vendor/backend",
      resource: `dispatch:${dispatched.requestId}`,
    });
    const stream = await world.store.readStreamTail(keys.audit, 1000);
    expect(stream.some(({ fields }) => fields.record.includes(acceptedAnswer.json.requestId))).toBe(true);

    const text = readFileSync(auditPath, "utf8");
    const logs = world.relay.logs();
    for (const secret of secrets) {
      expect(text).not.toContain(secret);
      expect(logs).not.toContain(secret);
    }
  });
});

describe("callbacks while the HUD is down", () => {
  let world: CallbackWorld;
  beforeAll(async () => {
    world = await startCallbackWorld(CONFIG, ["Vendor/Backend"]);
  });
  afterAll(async () => world?.close());

  it("answers 200 at once, then delivers every HUD row once the HUD is back, none twice", async () => {
    world.hud.setDown(true);
    const { "Vendor/Backend": dispatched } = await dispatchPr(world, ["Vendor/Backend"]);
    expect((await callBack(world, dispatched, workflowReport(), "vendor/backend")).status).toBe(200);
    expect(
      (
        await callBack(
          world,
          dispatched,
          workflowReport({ status: "completed", conclusion: "failure" }),
          "vendor/backend",
        )
      ).status,
    ).toBe(200);
    await waitUntil(() => world.hud.refused() >= 2, 30_000, "HUD refusals");
    world.hud.setDown(false);
    await waitUntil(() => world.hud.rows.length === 2, 30_000, "HUD rows after recovery");
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(world.hud.rows.map((row) => row.body.untrusted.callback_payload.workflow.status).sort()).toEqual([
      "completed",
      "in_progress",
    ]);
  });
});

function tamper(token: string): string {
  const [header, payload, signature] = token.split(".");
  const flipped = signature[0] === "A" ? `B${signature.slice(1)}` : `A${signature.slice(1)}`;
  return [header, payload, flipped].join(".");
}

function relayTokenFor(dispatched: Dispatched, at = new Date()): Promise<string> {
  const upstream = dispatched.clientPayload.relay.upstream;
  return mintRelayToken(
    {
      sub: "vendor/backend",
      jti: dispatched.requestId,
      upstream: upstream.repo,
      sha: upstream.sha,
      pr: upstream.pr_number,
      level: "L2",
      delivery: dispatched.clientPayload.delivery_id,
    },
    [RELAY_TOKEN_SECRET],
    at,
  );
}
