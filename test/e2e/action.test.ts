import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { dispatchPr, startCallbackWorld, type CallbackWorld, type Dispatched } from "../support/callback-world";

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
  function runStep(dispatched: Dispatched, inputs: Record<string, string>, env: Record<string, string> = {}): Promise<StepResult> {
    const eventPath = join(dir, `event-${dispatched.requestId}.json`);
    writeFileSync(eventPath, JSON.stringify({ action: "pull_request", client_payload: dispatched.clientPayload }));
    const runtime = world.issuer.actionsRuntime({ repository: "vendor/backend" });
    const inputEnv = Object.fromEntries(Object.entries(inputs).map(([name, value]) => [`INPUT_${name.toUpperCase().replace(/-/g, "_")}`, value]));
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
    expect(JSON.parse(started.stdout.trim().split("\n").pop() ?? "")).toMatchObject({ ok: true, state: "IN_PROGRESS", dispatchId: dispatched.requestId });

    const finished = await runStep(dispatched, { status: "completed", conclusion: "Success", "test-results": '{"passed": 5, "failed": 0}', summary: "**green**" });
    expect(finished.code).toBe(0);
    expect(finished.stdout).toContain('"state":"COMPLETED"');
    expect(world.issuer.runtimeAudiences.slice(-2)).toEqual(["ci-relay-callback", "ci-relay-callback"]);

    const hudRow = () => world.hud.rows.find((row) => row.body.trusted.request_id === dispatched.requestId && row.body.trusted.state === "COMPLETED");
    const deadline = Date.now() + 10_000;
    while (!hudRow() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(hudRow()?.body.untrusted.workflow).toMatchObject({
      job_name: "build",
      url: "https://github.com/vendor/backend/actions/runs/4242",
      test_results: { passed: 5, failed: 0 },
      summary: "**green**",
    });
    for (const output of [started.stdout, finished.stdout]) expect(output).not.toContain(dispatched.callbackToken);
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
    const unreachable = await runStep(dispatched, { status: "in_progress", "callback-url": "http://127.0.0.1:9/relay/v1/callback" });
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
