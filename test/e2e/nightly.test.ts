import { expect } from "@jest/globals";
import type { AuditRecord } from "../../src/audit/audit-record";
import type { UpstreamRunView } from "../../src/dashboard/list-runs";
import {
  postCallback,
  startCallbackWorld,
  waitUntil,
  workflowReport,
  type Answer,
  type CallbackWorld,
  type HudRow,
} from "../support/callback-world";
import { parseJson, readJson } from "../support/read-json";
import { randomSha } from "../support/webhooks";
import { keys } from "../../src/records/keys";

const CONFIG = `
version: 1
upstreams: [pytorch/pytorch]
downstreams:
  - { repo: Vendor/Backend, level: L2 }
  - { repo: quiet/observer, level: L1 }
  - { repo: Nightly/Only, level: L4, events: [] }
  - repo: pinned/nightly
    level: L2
    callers: { repository_id: "123456789", workflow_ref: "pinned/nightly/.github/workflows/nightly.yml@refs/heads/main" }
  - { repo: burst/repo, level: L2 }
  - { repo: crowd/nightly, level: L2 }
`;
const REPOS = ["Vendor/Backend", "quiet/observer", "Nightly/Only", "pinned/nightly", "burst/repo", "crowd/nightly"];
const RATE_LIMIT = 30;
const COMMITS = "/repos/pytorch/pytorch/commits/{sha}";

describe("nightly and periodic reports end to end (real server, fake GitHub, local OIDC issuer, HUD sink, Redis)", () => {
  let world: CallbackWorld;

  beforeAll(async () => {
    world = await startCallbackWorld(CONFIG, REPOS, { CALLBACK_RATE_LIMIT_PER_MINUTE: String(RATE_LIMIT) });
  });
  afterAll(async () => world?.close());

  /** A commit the upstream holds, as a nightly run would have checked it out. */
  const upstreamCommit = () => {
    const sha = randomSha();
    world.github.addCommit("pytorch/pytorch", sha);
    return sha;
  };
  const nightly = (sha: string, workflow: Record<string, unknown> = {}, eventType = "nightly") => ({
    event_type: eventType,
    delivery_id: sha,
    workflow: workflowReport({
      status: "completed",
      conclusion: "success",
      url: "https://github.com/vendor/backend/actions/runs/777",
      run_id: "777",
      ...workflow,
    }),
  });
  const report = async (
    repository: string,
    body: Record<string, unknown> | string,
    claims: Record<string, unknown> = {},
  ): Promise<Answer> =>
    postCallback(world, { authorization: [`Bearer ${await world.issuer.mint({ repository, ...claims })}`], body });
  const hudRowsFor = (sha: string) =>
    world.hud.rows.filter((row: HudRow) => row.body.untrusted.callback_payload.delivery_id === sha);
  /** every store key a report of `sha` could have left behind */
  const keysFor = async (sha: string) => (await world.redis.keys(`${world.relay.redisPrefix}*${sha}*`)).sort();
  const commitLookups = (sha: string) =>
    world.github.requests.filter((r) => r.path === `/repos/pytorch/pytorch/commits/${sha}`);

  it("takes an L2 downstream's nightly report once, files one HUD record under the commit, and answers a repeat as a duplicate", async () => {
    const sha = upstreamCommit();
    const accepted = await report("vendor/backend", nightly(sha));
    expect(accepted.status).toBe(200);
    expect(accepted.json).toEqual({
      ok: true,
      requestId: expect.any(String),
      dispatchId: null,
      state: "COMPLETED",
      duplicate: false,
    });

    await waitUntil(() => hudRowsFor(sha).length === 1, 30_000, "the HUD record");
    const [row] = hudRowsFor(sha);
    expect(row.body).toEqual({
      trusted: {
        ci_metrics: { queue_time: null, execution_time: null },
        verified_repo: "Vendor/Backend",
        downstream_repo_level: "L2",
        request_id: null,
        upstream: { repo: "pytorch/pytorch", sha, pr_number: null },
      },
      untrusted: {
        callback_payload: {
          event_type: "nightly",
          delivery_id: sha,
          payload: { repository: { full_name: "pytorch/pytorch" }, head_sha: sha },
          workflow: expect.objectContaining({
            status: "completed",
            conclusion: "success",
            job_name: "build",
            run_id: "777",
            check_run_id: "9001",
          }),
        },
      },
    });

    const again = await report("vendor/backend", nightly(sha));
    expect(again.json).toEqual({
      ok: true,
      requestId: expect.any(String),
      dispatchId: null,
      state: "COMPLETED",
      duplicate: true,
    });
    const changedMind = await report("vendor/backend", nightly(sha, { conclusion: "failure" }));
    expect(changedMind.status).toBe(409);
    expect(changedMind.json).toMatchObject({
      ok: false,
      failureKind: "invalid-transition",
      degradedReason: "conclusion-conflict",
    });
    // Another attempt of the run is another report.
    expect(
      (await report("vendor/backend", nightly(sha, { run_attempt: "2", conclusion: "failure" }))).json,
    ).toMatchObject({ ok: true, duplicate: false });
    await waitUntil(() => hudRowsFor(sha).length === 2, 30_000, "the second attempt's HUD record");
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // room for a wrongly doubled row to show
    expect(
      hudRowsFor(sha)
        .map((r) => r.body.untrusted.callback_payload.workflow.run_attempt)
        .sort(),
    ).toEqual(["1", "2"]);
    // GitHub was asked once: the commit is cached.
    expect(commitLookups(sha)).toHaveLength(1);
    expect(world.github.checkRuns()).toHaveLength(0);
  });

  it("records one of twelve identical reports sent at once, and answers the rest as duplicates", async () => {
    const sha = upstreamCommit();
    const answers = await Promise.all(
      Array.from({ length: 12 }, () => report("crowd/nightly", nightly(sha, { run_id: "4343" }))),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(12).fill(200));
    expect(answers.filter((a) => a.json.duplicate === false)).toHaveLength(1);
    await waitUntil(() => hudRowsFor(sha).length === 1, 30_000, "the HUD record");
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // room for a wrongly doubled row to show
    expect(hudRowsFor(sha)).toHaveLength(1);
  });

  it("takes a periodic report from a nightly-only downstream (events: []) and changes no check run", async () => {
    const sha = upstreamCommit();
    const answer = await report("nightly/only", nightly(sha, { job_name: "weekly-perf" }, "periodic"));
    expect(answer.json).toMatchObject({ ok: true, dispatchId: null, state: "COMPLETED", duplicate: false });
    await waitUntil(() => hudRowsFor(sha).length === 1, 30_000, "the HUD record");
    expect(hudRowsFor(sha)[0].body.trusted).toMatchObject({
      verified_repo: "Nightly/Only",
      downstream_repo_level: "L4",
      request_id: null,
    });
    expect(hudRowsFor(sha)[0].body.untrusted.callback_payload.event_type).toBe("periodic");
    expect(world.github.checkRuns()).toHaveLength(0);
    expect(world.github.requestsTo("POST", "/repos/{owner}/{repo}/check-runs")).toHaveLength(0);
  });

  it("shows accepted reports under their upstream commit in /relay/v1/runs and on the dashboard, marked as nightly", async () => {
    const sha = upstreamCommit();
    expect((await report("vendor/backend", nightly(sha))).status).toBe(200);
    expect((await report("nightly/only", nightly(sha, { job_name: "perf", conclusion: "failure" }))).status).toBe(200);

    const runs = await readJson<{ runs: UpstreamRunView[] }>(
      await fetch(world.relay.url(`/relay/v1/runs?upstream=pytorch/pytorch&sha=${sha}`)),
    );
    expect(runs.runs).toHaveLength(1);
    expect(runs.runs[0]).toMatchObject({
      event: "nightly",
      deliveryId: sha,
      upstream: { repo: "pytorch/pytorch", sha, ref: null, prNumber: null },
    });
    expect(runs.runs[0].downstreams.map((d) => [d.repo, d.state.name])).toEqual([
      ["Vendor/Backend", "success"],
      ["Nightly/Only", "failure"],
    ]);
    expect(runs.runs[0].downstreams[0]).toMatchObject({
      requestId: null,
      transport: null,
      dispatchState: null,
      jobs: [
        {
          name: "build",
          state: "COMPLETED",
          conclusion: "success",
          runId: "777",
          url: "https://github.com/vendor/backend/actions/runs/777",
        },
      ],
    });

    const page = await (await fetch(world.relay.url(`/relay/?upstream=pytorch/pytorch&sha=${sha}`))).text();
    expect(page).toContain(`class="report-kind">nightly</span>`);
    expect(page).toMatch(/data-repo="Nightly\/Only" data-status="failure"/);
    const unfiltered = await (await fetch(world.relay.url("/relay/"))).text();
    expect(unfiltered).toContain(sha.slice(0, 10));
  });

  describe("refuses what is no nightly report of a downstream, and keeps nothing", () => {
    let sha: string;
    beforeAll(() => {
      sha = upstreamCommit();
    });
    afterAll(async () => {
      expect(await keysFor(sha)).toEqual([]);
      expect(commitLookups(sha)).toHaveLength(0);
      expect(hudRowsFor(sha)).toHaveLength(0);
    });

    const cases: [string, () => Promise<Answer>, number, string, string][] = [
      [
        "a repository that is no downstream",
        () => report("stranger/repo", nightly(sha)),
        403,
        "caller-not-allowed",
        "downstream-not-configured",
      ],
      [
        "a run still in progress",
        () => report("vendor/backend", nightly(sha, { status: "in_progress", conclusion: null })),
        400,
        "validation-failed",
        "report-not-completed",
      ],
      [
        "a branch name for a SHA",
        () => report("vendor/backend", nightly("main")),
        400,
        "validation-failed",
        "body-invalid",
      ],
      [
        "an abbreviated SHA",
        () => report("vendor/backend", nightly(sha.slice(0, 12))),
        400,
        "validation-failed",
        "body-invalid",
      ],
      [
        "a pinned workflow that differs",
        () =>
          report("pinned/nightly", nightly(sha), {
            workflow_ref: "pinned/nightly/.github/workflows/evil.yml@refs/heads/main",
          }),
        401,
        "token-invalid",
        "workflow-ref-mismatch",
      ],
      [
        "a pinned repository id that differs",
        () =>
          report("pinned/nightly", nightly(sha), {
            repository_id: "1",
            workflow_ref: "pinned/nightly/.github/workflows/nightly.yml@refs/heads/main",
          }),
        401,
        "token-invalid",
        "repository-id-mismatch",
      ],
      [
        "a token for another audience",
        async () =>
          postCallback(world, {
            authorization: [
              `Bearer ${await world.issuer.mint({ repository: "vendor/backend" }, { audience: "ci-relay-broker" })}`,
            ],
            body: nightly(sha),
          }),
        401,
        "token-invalid",
        "audience-mismatch",
      ],
      [
        "a forged token",
        async () =>
          postCallback(world, {
            authorization: [
              `Bearer ${await world.issuer.mint({ repository: "vendor/backend" }, { forge: "other-key" })}`,
            ],
            body: nightly(sha),
          }),
        401,
        "token-invalid",
        "signature-invalid",
      ],
      ["no bearer", () => postCallback(world, { body: nightly(sha) }), 401, "unauthorized-caller", "bearer-missing"],
      [
        "a body that is not JSON, before any token is looked at",
        () => postCallback(world, { body: `{"event_type":"nightly",` }),
        400,
        "validation-failed",
        "malformed-json",
      ],
      [
        "a body over 64 KiB, before any token is looked at",
        () => postCallback(world, { body: nightly(sha, { summary: "x".repeat(65 * 1024) }) }),
        413,
        "payload-too-large",
        "payload-too-large",
      ],
      [
        "a bad body from an unknown repository: authentication first",
        () => report("stranger/repo", nightly("main")),
        403,
        "caller-not-allowed",
        "downstream-not-configured",
      ],
    ];

    it.each(cases)("%s", async (_name, send, status, failureKind, degradedReason) => {
      const answer = await send();
      expect({
        status: answer.status,
        failureKind: answer.json.failureKind,
        degradedReason: answer.json.degradedReason,
      }).toEqual({ status, failureKind, degradedReason });
      expect(answer.json).toMatchObject({ ok: false, retryable: false, requestId: expect.any(String) });
    });

    it("answers an L1 downstream's report as ignored, without asking GitHub", async () => {
      const ignoredSha = randomSha();
      const answer = await report("quiet/observer", nightly(ignoredSha));
      expect(answer.status).toBe(200);
      expect(answer.json).toEqual({ ok: true, requestId: expect.any(String), status: "ignored" });
      expect(commitLookups(ignoredSha)).toHaveLength(0);
      expect(await keysFor(ignoredSha)).toEqual([]);
    });
  });

  it("asks GitHub about the commit with a token of the upstream's installation, scoped to the upstream", async () => {
    const sha = upstreamCommit();
    expect((await report("vendor/backend", nightly(sha))).status).toBe(200);
    const [lookup] = commitLookups(sha);
    expect(lookup.status).toBe(200);
    expect(lookup.token?.installationId).toBe(11);
    expect(lookup.token?.repositories).toEqual(["pytorch/pytorch"]);
  });

  it("takes a pinned downstream's report from its pinned repository id and workflow", async () => {
    const sha = upstreamCommit();
    const answer = await report("pinned/nightly", nightly(sha), {
      workflow_ref: "pinned/nightly/.github/workflows/nightly.yml@refs/heads/main",
    });
    expect(answer.json).toMatchObject({ ok: true, duplicate: false, state: "COMPLETED" });
  });

  it("refuses a SHA the upstream does not hold as validation-failed, and remembers GitHub's answer only briefly", async () => {
    const stranger = randomSha();
    const answer = await report("vendor/backend", nightly(stranger));
    expect(answer.status).toBe(400);
    expect(answer.json).toMatchObject({
      failureKind: "validation-failed",
      degradedReason: "commit-unknown",
      retryable: false,
    });
    const ttl = await world.redis.ttl(keys.nightly.commitCheck("pytorch/pytorch", stranger));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(300);
    // Pushed since: found once the short memory of "not a commit" is gone.
    world.github.addCommit("pytorch/pytorch", stranger);
    await world.redis.del(keys.nightly.commitCheck("pytorch/pytorch", stranger));
    expect((await report("vendor/backend", nightly(stranger))).json).toMatchObject({ ok: true, duplicate: false });
  });

  it("answers a retryable error while GitHub is down or rate-limited, admitting nothing, and takes the report once GitHub answers", async () => {
    const sha = upstreamCommit();
    world.github.failNext({ method: "GET", path: COMMITS, status: 502, times: 100 });
    const down = await report("vendor/backend", nightly(sha));
    expect(down.status).toBe(502);
    expect(down.json).toMatchObject({
      ok: false,
      failureKind: "github-egress-failed",
      retryable: true,
      runnerDisposition: "infra-blocked",
    });
    world.github.clearFailures();

    const reset = String(Math.floor(Date.now() / 1000) + 3600);
    world.github.failNext({
      method: "GET",
      path: COMMITS,
      status: 403,
      times: 100,
      headers: { "x-ratelimit-remaining": "0", "x-ratelimit-reset": reset },
    });
    const limited = await report("vendor/backend", nightly(sha));
    expect(limited.status).toBe(429);
    expect(limited.json).toMatchObject({ ok: false, failureKind: "github-rate-limited", retryable: true });
    expect(limited.headers["retry-after"]).toMatch(/^\d+$/);
    world.github.clearFailures();

    // Nothing admitted: no report, no idempotency key, no cached answer, no HUD record.
    expect(await keysFor(sha)).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(hudRowsFor(sha)).toHaveLength(0);

    const later = await report("vendor/backend", nightly(sha));
    expect(later.json).toMatchObject({ ok: true, duplicate: false });
    await waitUntil(() => hudRowsFor(sha).length === 1, 30_000, "the HUD record once GitHub is back");
  });

  it("counts nightly reports against the downstream's rate limit", async () => {
    const sha = upstreamCommit();
    // A fixed window may roll over once during the loop: twice the limit plus one always crosses it.
    let limited: Answer | undefined;
    for (let i = 0; i <= 2 * RATE_LIMIT && limited === undefined; i++) {
      const answer = await report("burst/repo", nightly(sha, { job_name: `job-${i}` }));
      if (answer.status === 429) limited = answer;
      else expect(answer.status).toBe(200);
    }
    expect(limited?.json).toMatchObject({ failureKind: "rate-limited", retryable: true });
  });

  it("audits each report like any callback", async () => {
    const sha = upstreamCommit();
    const accepted = await report("vendor/backend", nightly(sha, { run_id: "888" }));
    const refused = await report("stranger/repo", nightly(sha));
    const records = async () =>
      (await world.store.readStreamTail(keys.audit, 10_000)).map(({ fields }) => parseJson<AuditRecord>(fields.record));
    const find = async (requestId: string) => (await records()).find((r) => r.requestId === requestId);
    await waitUntil(
      async () =>
        (await find(accepted.json.requestId)) !== undefined && (await find(refused.json.requestId)) !== undefined,
      30_000,
      "audit records",
    );
    expect(await find(accepted.json.requestId)).toMatchObject({
      endpoint: "/relay/v1/callback",
      ok: true,
      status: 200,
      operation: "callback.nightly.job.completed",
      resource: `commit:${sha}`,
      repo: "vendor/backend",
      identity: { repository: "vendor/backend", repository_id: "123456789", run_id: "4242" },
    });
    expect(await find(refused.json.requestId)).toMatchObject({
      ok: false,
      status: 403,
      failureKind: "caller-not-allowed",
      identity: { repository: "stranger/repo" },
    });
  });
});
