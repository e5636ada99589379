import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { expect } from "@jest/globals";
import {
  dispatchPr,
  startCallbackWorld,
  waitUntil,
  type CallbackWorld,
  type Dispatched,
} from "../support/callback-world";
import { randomSha } from "../support/webhooks";

const SCRIPT = resolve(__dirname, "../../action/callback.js");
const CONFIG = `
version: 1
upstreams: [pytorch/pytorch]
downstreams:
  - { repo: Vendor/Backend, level: L2 }
`;

interface StepResult {
  code: number;
  stdout: string;
}

describe("composite action script against the real relay and a fake Actions runtime", () => {
  let world: CallbackWorld;
  let dir: string;

  beforeAll(async () => {
    world = await startCallbackWorld(CONFIG, ["Vendor/Backend"]);
    dir = mkdtempSync(join(tmpdir(), "action-e2e-"));
  });
  afterAll(async () => {
    await world?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Runs the step as the runner would: inputs as INPUT_*, the event file, the Actions runtime. */
  function runStep(
    dispatched: Dispatched,
    inputs: Record<string, string>,
    env: Record<string, string> = {},
  ): Promise<StepResult> {
    const eventPath = join(dir, `event-${dispatched.requestId}.json`);
    writeFileSync(eventPath, JSON.stringify({ action: "pull_request", client_payload: dispatched.clientPayload }));
    return runWithEvent(eventPath, inputs, env);
  }

  /** Runs the step in a scheduled run: its event file has no client_payload. */
  function runScheduledStep(inputs: Record<string, string>, env: Record<string, string> = {}): Promise<StepResult> {
    const eventPath = join(dir, "event-schedule.json");
    writeFileSync(eventPath, JSON.stringify({ schedule: "0 3 * * *" }));
    return runWithEvent(eventPath, inputs, env);
  }

  function runWithEvent(
    eventPath: string,
    inputs: Record<string, string>,
    env: Record<string, string>,
  ): Promise<StepResult> {
    const runtime = world.issuer.actionsRuntime({ repository: "vendor/backend" });
    const inputEnv = Object.fromEntries(
      Object.entries(inputs).map(([name, value]) => [`INPUT_${name.toUpperCase().replace(/-/g, "_")}`, value]),
    );
    return new Promise((done) => {
      execFile(
        process.execPath,
        [SCRIPT],
        {
          env: {
            PATH: process.env.PATH,
            GITHUB_EVENT_PATH: eventPath,
            GITHUB_SERVER_URL: "https://github.com",
            GITHUB_REPOSITORY: "vendor/backend",
            GITHUB_WORKFLOW: "upstream",
            GITHUB_RUN_ID: "4242",
            GITHUB_RUN_ATTEMPT: "1",
            GITHUB_JOB: "build",
            ACTIONS_ID_TOKEN_REQUEST_URL: runtime.requestUrl,
            ACTIONS_ID_TOKEN_REQUEST_TOKEN: runtime.requestToken,
            CHECK_RUN_ID: "31337",
            CI_RELAY_CALLBACK_RETRY_MS: "10",
            ...inputEnv,
            ...env,
          },
        },
        (error, stdout) => done({ code: error ? Number(error.code ?? 1) : 0, stdout }),
      );
    });
  }

  it("reports in progress and completed with an OIDC token minted for the callback audience", async () => {
    const { "Vendor/Backend": dispatched } = await dispatchPr(world, ["Vendor/Backend"]);
    const started = await runStep(dispatched, { status: "in_progress" });
    expect(started.code).toBe(0);
    expect(JSON.parse(started.stdout.trim().split("\n").pop() ?? "")).toMatchObject({
      ok: true,
      state: "IN_PROGRESS",
      dispatchId: dispatched.requestId,
    });

    const finished = await runStep(dispatched, {
      status: "completed",
      conclusion: "Success",
      "test-results": '{"passed": 5, "failed": 0}',
      summary: "**green**",
    });
    expect(finished.code).toBe(0);
    expect(finished.stdout).toContain('"state":"COMPLETED"');
    expect(world.issuer.runtimeAudiences.slice(-2)).toEqual(["ci-relay-callback", "ci-relay-callback"]);

    const rowsOf = () => world.hud.rows.filter((row) => row.body.trusted.request_id === dispatched.requestId);
    await waitUntil(() => rowsOf().length === 2, 30_000, "two HUD records");
    const completed = rowsOf().find((row) => row.body.untrusted.callback_payload.workflow.status === "completed");
    expect(completed?.body.untrusted.callback_payload.workflow).toMatchObject({
      job_name: "build",
      check_run_id: "31337",
      url: "https://github.com/vendor/backend/actions/runs/4242",
      test_results: { passed: 5, failed: 0 },
      summary: "**green**",
    });
    for (const output of [started.stdout, finished.stdout]) expect(output).not.toContain(dispatched.callbackToken);
  });

  it("lands one job's in-progress and completed records on one row of a HUD that behaves like PyTorch's", async () => {
    const { "Vendor/Backend": dispatched } = await dispatchPr(world, ["Vendor/Backend"]);
    // What a CRCR downstream workflow sends: its echo of the dispatch payload, a CRCR-era field the relay does not know.
    const echoed = {
      ...dispatched.clientPayload,
      payload: { pull_request: { number: 1, head: { sha: "f".repeat(40) } }, repository: { full_name: "evil/fork" } },
    };
    expect(
      (
        await runStep(
          { ...dispatched, clientPayload: echoed },
          { status: "in_progress", "job-name": "test-cpu" },
          { CHECK_RUN_ID: "555" },
        )
      ).code,
    ).toBe(0);
    expect(
      (
        await runStep(
          { ...dispatched, clientPayload: echoed },
          { status: "completed", conclusion: "failure", "job-name": "test-cpu" },
          { CHECK_RUN_ID: "555" },
        )
      ).code,
    ).toBe(0);

    const rowsOf = () => world.hud.rows.filter((row) => row.body.trusted.request_id === dispatched.requestId);
    await waitUntil(() => rowsOf().length >= 2, 30_000, "two HUD records");
    // Give a stray third record time to show up before counting.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(rowsOf()).toHaveLength(2);
    const key = `Vendor/Backend/${dispatched.clientPayload.delivery_id}/upstream/test-cpu/555`;
    const upstream = dispatched.clientPayload.relay.upstream;
    expect(world.hud.table.get(key)).toMatchObject({
      status: "completed",
      conclusion: "failure",
      pr_number: upstream.pr_number,
      pytorch_head_sha: upstream.sha,
      upstream_repo: "pytorch/pytorch",
      event_type: "pull_request",
      queue_time: expect.any(Number),
      execution_time: expect.any(Number),
    });
    expect([...world.hud.table.keys()].filter((k) => k.includes(dispatched.clientPayload.delivery_id))).toEqual([key]);
    expect(world.hud.rejected).toEqual([]);
    for (const row of rowsOf()) expect(JSON.stringify(row.body)).not.toContain("evil/fork");
  });

  it("reports a nightly run for an upstream commit without a dispatch (event-type, delivery-id, callback-url)", async () => {
    const sha = randomSha();
    world.github.addCommit("pytorch/pytorch", sha);
    const callbackUrl = world.relay.url("/relay/v1/callback");
    const nightly = {
      status: "completed",
      conclusion: "success",
      "event-type": "nightly",
      "delivery-id": sha,
      "callback-url": callbackUrl,
    };
    const result = await runScheduledStep(nightly);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout.trim().split("\n").pop() ?? "")).toMatchObject({
      ok: true,
      dispatchId: null,
      state: "COMPLETED",
      duplicate: false,
    });
    await waitUntil(
      () => world.hud.rows.some((row) => row.body.untrusted.callback_payload.delivery_id === sha),
      30_000,
      "the HUD record",
    );
    const row = world.hud.rows.find((r) => r.body.untrusted.callback_payload.delivery_id === sha);
    expect(row?.body.trusted).toMatchObject({ request_id: null, verified_repo: "Vendor/Backend", upstream: { sha } });
    expect(row?.body.untrusted.callback_payload.workflow).toMatchObject({
      job_name: "build",
      check_run_id: "31337",
      run_id: "4242",
    });

    const unfinished = await runScheduledStep({ ...nightly, status: "in_progress", conclusion: "" });
    expect(unfinished.code).toBe(1);
    expect(unfinished.stdout).toContain("status must be completed");
    const noSha = await runScheduledStep({ ...nightly, "delivery-id": "main" });
    expect(noSha.code).toBe(1);
    expect(noSha.stdout).toContain("delivery-id must be the full SHA");
    const unknown = await runScheduledStep({ ...nightly, "delivery-id": randomSha() });
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toContain("commit-unknown");
  });

  it("falls back to CRCR's run-id-attempt check run id where the runner exposes none", async () => {
    const { "Vendor/Backend": dispatched } = await dispatchPr(world, ["Vendor/Backend"]);
    expect((await runStep(dispatched, { status: "in_progress" }, { CHECK_RUN_ID: "" })).code).toBe(0);
    const row = () => world.hud.rows.find((r) => r.body.trusted.request_id === dispatched.requestId);
    await waitUntil(() => row() !== undefined, 30_000, "a HUD record");
    expect(row()?.body.untrusted.callback_payload.workflow.check_run_id).toBe("4242-1");
  });

  it("fails the step when the relay refuses the report (4xx)", async () => {
    const { "Vendor/Backend": dispatched } = await dispatchPr(world, ["Vendor/Backend"]);
    expect((await runStep(dispatched, { status: "completed", conclusion: "failure" })).code).toBe(0);
    const backwards = await runStep(dispatched, { status: "in_progress" });
    expect(backwards.code).toBe(1);
    expect(backwards.stdout).toContain("invalid-transition");
  });

  it("does not fail the step when the relay stays unavailable after retries", async () => {
    const { "Vendor/Backend": dispatched } = await dispatchPr(world, ["Vendor/Backend"]);
    const unreachable = await runStep(dispatched, {
      status: "in_progress",
      "callback-url": "http://127.0.0.1:9/relay/v1/callback",
    });
    expect(unreachable.code).toBe(0);
    expect(unreachable.stdout).toContain("::warning::");
    expect(unreachable.stdout.match(/attempt \d\/4/g)).toHaveLength(4);
  });

  it("fails the step with a clear message when the job may not mint an OIDC token", async () => {
    const { "Vendor/Backend": dispatched } = await dispatchPr(world, ["Vendor/Backend"]);
    const result = await runStep(dispatched, { status: "in_progress" }, { ACTIONS_ID_TOKEN_REQUEST_URL: "" });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("id-token: write");
  });
});
