import {
  callBack,
  dispatchPr,
  startCallbackWorld,
  waitUntil,
  workflowReport,
  type CallbackWorld,
  type Dispatched,
} from "../support/callback-world";
import { sendWebhook, workflowRunEvent } from "../support/webhooks";

const CONFIG = `
version: 1
upstreams: [pytorch/pytorch]
downstreams:
  - { repo: Vendor/Gate, level: L4 }
`;
/** startCallbackWorld installs the app on the downstream as installation 100. */
const GATE_INSTALLATION = 100;
const OTHER_INSTALLATION = 666;
const CHECK = "relay/Vendor/Gate";

/**
 * SPEC §3: the per-downstream L4 check concludes from the downstream workflow run itself, so a CRCR
 * workflow that reports only its jobs concludes its required check without any extra step.
 */
jest.setTimeout(120_000);

describe("workflow_run concludes the per-downstream check (real server, fake GitHub)", () => {
  let world: CallbackWorld;
  let runs = 7000;
  beforeAll(async () => {
    world = await startCallbackWorld(CONFIG, ["Vendor/Gate"]);
    world.github.addInstallation({ id: OTHER_INSTALLATION, account: "mallory", repos: ["mallory/ci"] });
  });
  afterAll(async () => world?.close());

  const shaOf = (dispatched: Dispatched): string => dispatched.clientPayload.relay.upstream.sha;
  /** The newest check run of that name on the dispatch's commit (a re-run opens a new one). */
  const gateCheck = (dispatched: Dispatched) =>
    world.github
      .checkRuns("pytorch/pytorch")
      .filter((c) => c.headSha === shaOf(dispatched) && c.name === CHECK)
      .sort((a, b) => b.id - a.id)[0];
  const gateChecks = (dispatched: Dispatched) =>
    world.github.checkRuns("pytorch/pytorch").filter((c) => c.headSha === shaOf(dispatched) && c.name === CHECK);

  const jobReport = (dispatched: Dispatched, runId: number, fields: Record<string, unknown>) =>
    callBack(
      world,
      dispatched,
      workflowReport({ run_id: String(runId), url: `https://github.com/Vendor/Gate/actions/runs/${runId}`, ...fields }),
      "vendor/gate",
    );

  const sendRun = async (
    action: "requested" | "in_progress" | "completed",
    runId: number,
    extra: { runAttempt?: number; conclusion?: string; installationId?: number } = {},
  ) => {
    const payload = workflowRunEvent(action, {
      repo: "Vendor/Gate",
      installationId: extra.installationId ?? GATE_INSTALLATION,
      runId,
      ...extra,
    });
    expect((await sendWebhook(world.relay.baseUrl, { event: "workflow_run", payload })).status).toBe(200);
  };
  const applied =
    (runId: number, attempt = 1) =>
    () =>
      world.relay
        .logs()
        .split("\n")
        .some(
          (line) =>
            line.includes("workflow_run applied") &&
            line.includes(`"runId":"${runId}"`) &&
            line.includes(`"runAttempt":"${attempt}"`),
        );

  /** A dispatch whose one job reported in progress and completed: the per-downstream check is still open, as a CRCR workflow leaves it. */
  async function jobsOnly(conclusion = "success"): Promise<{ dispatched: Dispatched; runId: number }> {
    const { "Vendor/Gate": dispatched } = await dispatchPr(world, ["Vendor/Gate"]);
    const runId = ++runs;
    expect((await jobReport(dispatched, runId, {})).status).toBe(200);
    expect((await jobReport(dispatched, runId, { status: "completed", conclusion })).status).toBe(200);
    const jobCheck = () =>
      world.github
        .checkRuns("pytorch/pytorch")
        .find((c) => c.headSha === shaOf(dispatched) && c.name === `${CHECK}/CI/build`);
    await waitUntil(() => jobCheck()?.status === "completed", 30_000, "the job's check concluded");
    // The queued per-downstream check is its own outbox task: it may land after the job's check.
    await waitUntil(() => gateCheck(dispatched) !== undefined, 30_000, "the per-downstream check opened");
    expect(gateCheck(dispatched)?.status).not.toBe("completed");
    return { dispatched, runId };
  }

  it("concludes with the run's conclusion when the run completes, though only jobs reported", async () => {
    const { dispatched, runId } = await jobsOnly();
    await sendRun("completed", runId, { conclusion: "failure" });
    await waitUntil(() => gateCheck(dispatched)?.status === "completed", 30_000, "the check concluded");
    expect(gateCheck(dispatched)).toMatchObject({
      conclusion: "failure",
      detailsUrl: `https://github.com/Vendor/Gate/actions/runs/${runId}`,
    });
  });

  it("keeps a scope: run report's conclusion when it came first", async () => {
    const { "Vendor/Gate": dispatched } = await dispatchPr(world, ["Vendor/Gate"]);
    const runId = ++runs;
    expect((await jobReport(dispatched, runId, {})).status).toBe(200);
    expect(
      (await jobReport(dispatched, runId, { scope: "run", job_name: null, status: "completed", conclusion: "neutral" }))
        .status,
    ).toBe(200);
    await waitUntil(() => gateCheck(dispatched)?.conclusion === "neutral", 30_000, "the run report's conclusion");
    await sendRun("completed", runId, { conclusion: "success" });
    await waitUntil(applied(runId), 30_000, "the workflow_run handled");
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(gateChecks(dispatched)).toEqual([expect.objectContaining({ status: "completed", conclusion: "neutral" })]);
  });

  it("re-opens the check when the run is re-run, and concludes it again", async () => {
    const { dispatched, runId } = await jobsOnly("failure");
    await sendRun("completed", runId, { conclusion: "failure" });
    await waitUntil(() => gateCheck(dispatched)?.conclusion === "failure", 30_000, "the first conclusion");

    await sendRun("requested", runId, { runAttempt: 2 });
    await waitUntil(() => gateCheck(dispatched)?.status !== "completed", 30_000, "the check re-opened");
    expect(gateChecks(dispatched)).toHaveLength(2);
    expect(gateCheck(dispatched)).toMatchObject({ status: "in_progress" });

    expect((await jobReport(dispatched, runId, { run_attempt: "2" })).status).toBe(200);
    expect(
      (await jobReport(dispatched, runId, { run_attempt: "2", status: "completed", conclusion: "success" })).status,
    ).toBe(200);
    await sendRun("completed", runId, { runAttempt: 2, conclusion: "success" });
    await waitUntil(() => gateCheck(dispatched)?.conclusion === "success", 30_000, "the re-run's conclusion");
  });

  it("changes nothing for a run no callback of the dispatch named", async () => {
    const { dispatched, runId } = await jobsOnly();
    // The webhook answers after deciding: no task is stored for a run no callback named.
    await sendRun("completed", runId + 100_000, { conclusion: "failure" });
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(gateChecks(dispatched)).toEqual([expect.objectContaining({ status: "queued" })]);
    expect(world.relay.logs()).not.toContain(`"runId":"${runId + 100_000}"`);
  });

  it("changes nothing for a forged workflow_run from another installation naming the run", async () => {
    const { dispatched, runId } = await jobsOnly();
    await sendRun("completed", runId, { conclusion: "failure", installationId: OTHER_INSTALLATION });
    await waitUntil(
      () => world.relay.logs().includes("workflow_run from another installation ignored"),
      30_000,
      "the forged delivery dropped",
    );
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(gateChecks(dispatched)).toEqual([expect.objectContaining({ status: "queued" })]);

    // The genuine one still concludes it.
    await sendRun("completed", runId, { conclusion: "success" });
    await waitUntil(() => gateCheck(dispatched)?.conclusion === "success", 30_000, "the genuine conclusion");
  });
});
