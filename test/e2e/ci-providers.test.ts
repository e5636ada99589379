import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { expect } from "@jest/globals";
import {
  callBack,
  dispatchPr,
  postCallback,
  startCallbackWorld,
  waitUntil,
  workflowReport,
  type CallbackWorld,
  type Dispatched,
} from "../support/callback-world";
import {
  BUILDKITE_ORGANIZATION_ID,
  BUILDKITE_PIPELINE_ID,
  buildkiteClaims,
  startOidcIssuer,
  type OidcIssuer,
} from "../support/oidc-issuer";

const VLLM = "vllm-project/vllm";
const SCRIPT = resolve(__dirname, "../../action/buildkite-callback.js");
const FAKE_AGENT = resolve(__dirname, "../support/fake-buildkite-agent.js");
const REPOS = [VLLM, "Vendor/Backend"];

/** SPEC §2 `ci_providers` with the local Buildkite-shaped issuer; vLLM's GitHub Actions callers are pinned to another repository id. */
function config(buildkiteUrl: string): string {
  return `
version: 1
upstreams: [pytorch/pytorch]
downstreams:
  - { repo: ${VLLM}, level: L2, callers: { repository_id: "555" } }
  - { repo: Vendor/Backend, level: L2 }
ci_providers:
  - issuer: ${buildkiteUrl}
    repo_map:
      - claims: { organization_id: "${BUILDKITE_ORGANIZATION_ID}", pipeline_id: "${BUILDKITE_PIPELINE_ID}" }
        repo: ${VLLM}
        required_claims: { build_branch: [main, "release/*"] }
`;
}

describe("callbacks from a CI system other than GitHub Actions (real server, local Buildkite-shaped issuer)", () => {
  let buildkite: OidcIssuer;
  let unknown: OidcIssuer;
  let world: CallbackWorld;

  beforeAll(async () => {
    [buildkite, unknown] = await Promise.all(
      [1, 2].map(() => startOidcIssuer({ baseClaims: () => buildkiteClaims() })),
    );
    world = await startCallbackWorld(config(buildkite.url), REPOS);
  }, 60_000);
  afterAll(async () => {
    await world?.close();
    await Promise.all([buildkite?.close(), unknown?.close()]);
  });

  /** A callback as action/buildkite-callback.js sends it: a Buildkite OIDC token and the dispatch's relay token. */
  const fromBuildkite = async (
    dispatched: Dispatched,
    claims: Record<string, unknown> = {},
    workflow = workflowReport(),
  ) =>
    postCallback(world, {
      authorization: [`Bearer ${await buildkite.mint(claims)}`],
      body: { relay_token: dispatched.callbackToken, workflow },
    });

  it("the mapped pipeline reports for its repository's dispatch, through to the HUD", async () => {
    const { [VLLM]: dispatched } = await dispatchPr(world, [VLLM]);

    const started = await fromBuildkite(dispatched);
    expect(started.status).toBe(200);
    expect(started.json).toEqual({
      ok: true,
      requestId: expect.any(String),
      dispatchId: dispatched.requestId,
      state: "IN_PROGRESS",
      duplicate: false,
    });
    const finished = await fromBuildkite(
      dispatched,
      { build_branch: "release/0.9" },
      workflowReport({ status: "completed", conclusion: "success" }),
    );
    expect(finished.json).toMatchObject({ ok: true, state: "COMPLETED", duplicate: false });

    await waitUntil(
      () => world.hud.rows.filter((row) => row.body.trusted.request_id === dispatched.requestId).length === 2,
      30_000,
      "two HUD rows",
    );
    expect(
      world.hud.rows.find((row) => row.body.trusted.request_id === dispatched.requestId)?.body.trusted,
    ).toMatchObject({ verified_repo: VLLM });
  });

  it("the mapped pipeline cannot report for another repository's dispatch, nor without a relay token", async () => {
    const { "Vendor/Backend": other } = await dispatchPr(world, ["Vendor/Backend"]);

    const foreign = await fromBuildkite(other);
    expect(foreign.status).toBe(401);
    expect(foreign.json).toMatchObject({
      ok: false,
      failureKind: "token-invalid",
      degradedReason: "repository-mismatch",
    });
    const bare = await postCallback(world, {
      authorization: [`Bearer ${await buildkite.mint()}`],
      body: { workflow: workflowReport() },
    });
    expect(bare.status).toBe(401);
    expect(bare.json).toMatchObject({ failureKind: "unauthorized-caller", degradedReason: "relay-token-missing" });
  });

  it.each([
    ["an unmapped pipeline", { pipeline_id: "11111111-2222-4333-8444-555555555555" }, "provider-caller-not-mapped"],
    [
      "the mapped slugs under another pipeline's UUID",
      { pipeline_id: "33333333-4444-4555-8666-777777777777", pipeline_slug: "ci", organization_slug: "vllm" },
      "provider-caller-not-mapped",
    ],
    [
      "another organisation's pipeline under the mapped pipeline UUID",
      { organization_id: "22222222-3333-4444-8555-666666666666" },
      "provider-caller-not-mapped",
    ],
    ["a build of a fork's branch", { build_branch: "contributor:main" }, "required-claim-mismatch"],
    ["a build without a branch claim", { build_branch: null }, "required-claim-missing"],
  ])("%s is caller-not-allowed and changes nothing", async (_what, claims, reason) => {
    const { [VLLM]: dispatched } = await dispatchPr(world, [VLLM]);

    const answer = await fromBuildkite(dispatched, claims);

    expect(answer.status).toBe(403);
    expect(answer.json).toMatchObject({ ok: false, failureKind: "caller-not-allowed", degradedReason: reason });
    const accepted = await fromBuildkite(dispatched);
    expect(accepted.json).toMatchObject({ ok: true, state: "IN_PROGRESS", duplicate: false });
  });

  it("a token from an issuer in neither list is token-invalid, and that issuer is never asked for anything", async () => {
    const { [VLLM]: dispatched } = await dispatchPr(world, [VLLM]);
    const token = await unknown.mint();

    const answer = await postCallback(world, {
      authorization: [`Bearer ${token}`],
      body: { relay_token: dispatched.callbackToken, workflow: workflowReport() },
    });

    expect(answer.status).toBe(401);
    expect(answer.json).toMatchObject({ ok: false, failureKind: "token-invalid", degradedReason: "issuer-mismatch" });
    expect(answer.text).not.toContain(token);
    expect(unknown.requests.total).toBe(0);
  });

  it("GitHub Actions callers are unchanged: their own repository reports, and their pins still bind them", async () => {
    const { "Vendor/Backend": backend, [VLLM]: vllm } = await dispatchPr(world, REPOS);

    expect((await callBack(world, backend, workflowReport(), "vendor/backend")).json).toMatchObject({
      ok: true,
      state: "IN_PROGRESS",
    });
    const unpinned = await callBack(world, vllm, workflowReport(), VLLM);
    expect(unpinned.json).toMatchObject({ failureKind: "token-invalid", degradedReason: "repository-id-mismatch" });
    const pinned = await postCallback(world, {
      authorization: [`Bearer ${await world.issuer.mint({ repository: VLLM, repository_id: "555" })}`],
      body: { relay_token: vllm.callbackToken, workflow: workflowReport() },
    });
    expect(pinned.json).toMatchObject({ ok: true, state: "IN_PROGRESS" });
  });

  /** Runs action/buildkite-callback.js as a Buildkite step would: build env, the agent on hand. */
  function runBuildkiteStep(
    args: string[],
    env: Record<string, string>,
    tokenClaims: Record<string, unknown> = {},
  ): Promise<{ code: number; stdout: string }> {
    const runtime = buildkite.actionsRuntime(tokenClaims);
    return new Promise((done) => {
      execFile(
        process.execPath,
        [SCRIPT, ...args],
        {
          env: {
            PATH: process.env.PATH,
            BUILDKITE_AGENT: FAKE_AGENT,
            FAKE_AGENT_TOKEN_URL: runtime.requestUrl,
            FAKE_AGENT_TOKEN_BEARER: runtime.requestToken,
            BUILDKITE_BUILD_NUMBER: "77",
            BUILDKITE_RETRY_COUNT: "0",
            BUILDKITE_BUILD_URL: "https://buildkite.com/vllm/ci/builds/77",
            BUILDKITE_JOB_ID: "0190a1b2-c3d4-4e5f-8a9b-0c1d2e3f4a5b",
            BUILDKITE_PIPELINE_SLUG: "ci",
            BUILDKITE_STEP_KEY: "upstream-tests",
            CI_RELAY_CALLBACK_RETRY_MS: "10",
            ...env,
          },
        },
        (error, stdout) => done({ code: error ? Number(error.code ?? 1) : 0, stdout }),
      );
    });
  }

  it("action/buildkite-callback.js reports a Buildkite job with the agent's OIDC token and the dispatch's relay token", async () => {
    const { [VLLM]: dispatched } = await dispatchPr(world, [VLLM]);
    const relayEnv = {
      CI_RELAY_CALLBACK_URL: dispatched.clientPayload.relay.callback_url,
      CI_RELAY_TOKEN: dispatched.callbackToken,
    };
    expect(relayEnv.CI_RELAY_CALLBACK_URL).toBe(world.relay.url("/relay/v1/callback"));

    const started = await runBuildkiteStep(["in_progress"], relayEnv);
    expect(started.code).toBe(0);
    expect(JSON.parse(started.stdout.trim().split("\n").pop() ?? "")).toMatchObject({
      ok: true,
      state: "IN_PROGRESS",
      dispatchId: dispatched.requestId,
    });
    const finished = await runBuildkiteStep(["completed", "Failure"], {
      ...relayEnv,
      CI_RELAY_TEST_RESULTS: '{"passed": 9, "failed": 1}',
    });
    expect(finished.code).toBe(0);
    expect(finished.stdout).toContain('"state":"COMPLETED"');
    expect(buildkite.runtimeAudiences.slice(-2)).toEqual(["ci-relay-callback", "ci-relay-callback"]);

    const rowsOf = () => world.hud.rows.filter((row) => row.body.trusted.request_id === dispatched.requestId);
    await waitUntil(() => rowsOf().length === 2, 30_000, "two HUD records");
    const completed = rowsOf().find((row) => row.body.untrusted.callback_payload.workflow.status === "completed");
    expect(completed?.body.trusted).toMatchObject({ verified_repo: VLLM });
    expect(completed?.body.untrusted.callback_payload.workflow).toMatchObject({
      conclusion: "failure",
      job_name: "upstream-tests",
      run_id: "77",
      check_run_id: "77-1",
      url: "https://buildkite.com/vllm/ci/builds/77#0190a1b2-c3d4-4e5f-8a9b-0c1d2e3f4a5b",
      test_results: { passed: 9, failed: 1 },
    });
    for (const output of [started.stdout, finished.stdout]) expect(output).not.toContain(dispatched.callbackToken);
  });

  it("action/buildkite-callback.js fails the step when the relay refuses the pipeline, and without its settings", async () => {
    const { [VLLM]: dispatched } = await dispatchPr(world, [VLLM]);
    const relayEnv = {
      CI_RELAY_CALLBACK_URL: dispatched.clientPayload.relay.callback_url,
      CI_RELAY_TOKEN: dispatched.callbackToken,
    };

    const fork = await runBuildkiteStep(["in_progress"], relayEnv, { build_branch: "contributor:main" });
    expect(fork.code).toBe(1);
    expect(fork.stdout).toContain("caller-not-allowed");
    const noToken = await runBuildkiteStep(["in_progress"], { CI_RELAY_CALLBACK_URL: relayEnv.CI_RELAY_CALLBACK_URL });
    expect(noToken).toMatchObject({ code: 1, stdout: expect.stringContaining("CI_RELAY_TOKEN is not set") });
    const noConclusion = await runBuildkiteStep(["completed"], relayEnv);
    expect(noConclusion).toMatchObject({ code: 1, stdout: expect.stringContaining("conclusion is required") });
    const noAgent = await runBuildkiteStep(["in_progress"], {
      ...relayEnv,
      BUILDKITE_AGENT: "/nonexistent/buildkite-agent",
    });
    expect(noAgent).toMatchObject({
      code: 1,
      stdout: expect.stringContaining("buildkite-agent could not get an OIDC token"),
    });
  });
});
