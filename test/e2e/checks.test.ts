import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { Probot, ProbotOctokit } from "probot";
import type { JobTransition } from "../../src/jobs/job-transition";
import { checkRunOpsForTransition } from "../../src/checks/check-run-effects";
import { sweepCheckRunTimeouts } from "../../src/timeouts/timeout-sweeps";
import { loadEnv } from "../../src/config/env";
import type { RelayConfig } from "../../src/config/types";
import { createRelay, type Relay } from "../../src/create-relay";
import { readDelivery } from "../../src/dashboard/delivery-view";
import { listDispatchIds, readDispatches, type DispatchRecord } from "../../src/records/dispatches";
import { MemoryStore } from "../../src/store/memory-store";
import { registerWebhooks } from "../../src/webhooks/register-webhooks";
import { testAppCredentials } from "../support/app-key";
import { startFakeGitHub, type FakeGitHub } from "../support/fake-github";
import type { CheckRunRecord } from "../support/fake-github-state";
import {
  checkRunRerequestedEvent,
  checkSuiteRerequestedEvent,
  pullRequestEvent,
  randomSha,
  type PullRequestAction,
  type PullRequestOptions,
} from "../support/webhooks";

/**
 * Check runs end to end, in process: the relay's real webhook handlers, outbox, task handlers and
 * GitHub client against the fake GitHub over HTTP, on a memory store with a clock the test moves
 * (timeouts and outbox retries without waiting). Callbacks enter as the JobTransitions the callback
 * endpoint hands to `checkRunOpsForTransition`, written the way it writes them.
 */

const CONFIG = `
version: 1
upstreams: [pytorch/pytorch]
downstreams:
  - { repo: Ascend/pytorch, level: L3, device: npu, pickup_timeout_minutes: 5, job_timeout_minutes: 10 }
  - { repo: vendor/backend, level: L2 }
  - { repo: quiet/observer, level: L1 }
  - { repo: strict/gate, level: L4, pickup_timeout_minutes: 5, job_timeout_minutes: 10 }
`;
const UPSTREAM = "pytorch/pytorch";
const PUBLIC_URL = "http://relay.example.test";
const MINUTE = 60_000;

describe("check runs (relay in process, fake GitHub)", () => {
  let github: FakeGitHub;
  let relay: Relay;
  let probot: Probot;
  let config: RelayConfig;
  // Real time plus what the test skips: webhook handlers stamp what they store with Date.now().
  let skipped = 0;
  const now = () => Date.now() + skipped;
  let dir: string;
  let pr = 100;

  beforeAll(async () => {
    github = await startFakeGitHub();
    github.addInstallation({ id: 11, account: "pytorch", repos: [UPSTREAM] });
    github.addInstallation({ id: 21, account: "Ascend", repos: ["Ascend/pytorch"] });
    github.addInstallation({ id: 22, account: "vendor", repos: ["vendor/backend"] });
    github.addInstallation({ id: 23, account: "quiet", repos: ["quiet/observer"] });
    github.addInstallation({ id: 24, account: "strict", repos: ["strict/gate"] });
    github.addWorkflowRun("strict/gate", { id: 555 });
    dir = mkdtempSync(join(tmpdir(), "ci-relay-checks-"));
    writeFileSync(join(dir, "relay.yml"), CONFIG);
    const env = loadEnv({
      RELAY_CONFIG: join(dir, "relay.yml"),
      RELAY_PUBLIC_URL: PUBLIC_URL,
      RELAY_TOKEN_SECRET: "relay-token-secret-for-tests-0123456789abcdef",
      LOG_LEVEL: "silent",
    });
    const { appId, privateKeyPem } = testAppCredentials();
    probot = new Probot({
      appId,
      privateKey: privateKeyPem,
      baseUrl: github.apiUrl,
      log: pino({ level: process.env.DEBUG_CHECKS ? "debug" : "silent" }),
      // Octokit's own retries would hide GitHub failures from the outbox, whose retries are under test.
      Octokit: ProbotOctokit.defaults({ retry: { enabled: false } }),
    });
    relay = createRelay(probot, env, { store: new MemoryStore({ now }), now });
    await relay.config.start();
    config = relay.config.current() as RelayConfig;
    registerWebhooks(probot, relay);
  });

  afterAll(async () => {
    await relay?.runner.stop();
    relay?.config.close();
    await relay?.store.close();
    await github?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Performs every due outbox task, including those of the drain a webhook handler kicked off. */
  async function settle(): Promise<void> {
    await relay.runner.stop();
    await relay.runner.drain();
  }

  /** Delivers a webhook and performs every outbox task it caused. */
  async function deliver(
    name: "pull_request" | "check_run" | "check_suite",
    payload: unknown,
    id = `delivery-${Math.random()}`,
  ): Promise<void> {
    await probot.receive({ id, name, payload } as Parameters<Probot["receive"]>[0]);
    await settle();
  }

  const pullRequest = (action: PullRequestAction, options: Omit<PullRequestOptions, "repo" | "installationId">) =>
    pullRequestEvent(action, { repo: UPSTREAM, installationId: 11, authorAssociation: "MEMBER", ...options });

  async function dispatchOf(sha: string, downstream: string): Promise<DispatchRecord> {
    const records = await readDispatches(relay.store, await listDispatchIds(relay.store, { repo: UPSTREAM, sha }, 50));
    const record = records.find((r) => r.downstream === downstream);
    if (!record) throw new Error(`no dispatch to ${downstream} for ${sha}`);
    return record;
  }

  /** What the callback endpoint does with an accepted callback, as far as check runs go. */
  async function report(
    record: DispatchRecord,
    change: Partial<JobTransition> & Pick<JobTransition, "scope" | "to">,
    options: { settle?: boolean } = {},
  ): Promise<void> {
    const transition: JobTransition = {
      dispatch: record,
      jobName: change.scope === "job" ? "build" : null,
      runId: "555",
      runAttempt: "1",
      from: "DISPATCHED",
      conclusion: null,
      detailsUrl: `https://github.com/${record.downstream}/actions/runs/555`,
      workflowName: "CI",
      summary: null,
      queueTimeSeconds: null,
      executionTimeSeconds: null,
      at: now(),
      ...change,
    };
    await relay.store.write(checkRunOpsForTransition(relay, config, transition, now()));
    if (options.settle !== false) await settle();
  }

  const checks = (sha: string, name?: string): CheckRunRecord[] =>
    github.checkRuns(UPSTREAM).filter((r) => r.headSha === sha && (name === undefined || r.name === name));

  it("queues the L4 check at dispatch, links the dashboard, and concludes it from the run-level callback", async () => {
    const sha = randomSha();
    await deliver("pull_request", pullRequest("opened", { number: ++pr, headSha: sha }));
    const record = await dispatchOf(sha, "strict/gate");
    expect(checks(sha)).toEqual([
      expect.objectContaining({
        name: "relay/strict/gate",
        status: "queued",
        externalId: `ci-relay:${record.requestId}`,
        detailsUrl: `${PUBLIC_URL}/relay/?sha=${sha}`,
      }),
    ]);

    await report(record, { scope: "job", to: "IN_PROGRESS" });
    expect(checks(sha, "relay/strict/gate/CI/build")).toEqual([
      expect.objectContaining({ status: "in_progress", detailsUrl: "https://github.com/strict/gate/actions/runs/555" }),
    ]);
    await report(record, { scope: "job", to: "COMPLETED", from: "IN_PROGRESS", conclusion: "success" });
    await report(record, { scope: "run", to: "COMPLETED", conclusion: "failure", summary: "2 jobs, 1 failed" });

    expect(checks(sha, "relay/strict/gate/CI/build")).toEqual([
      expect.objectContaining({ status: "completed", conclusion: "success" }),
    ]);
    expect(checks(sha, "relay/strict/gate")).toEqual([
      expect.objectContaining({
        status: "completed",
        conclusion: "failure",
        detailsUrl: "https://github.com/strict/gate/actions/runs/555",
      }),
    ]);
    expect(checks(sha, "relay/strict/gate")[0].output.summary).toBe("2 jobs, 1 failed");
  });

  it("gives no check runs to L1, L2 or an unlabelled L3, and writes them with an upstream-only checks:write token", async () => {
    const sha = randomSha();
    await deliver("pull_request", pullRequest("opened", { number: ++pr, headSha: sha }));
    expect(checks(sha).map((r) => r.name)).toEqual(["relay/strict/gate"]);
    const writes = github.requestsTo("POST", "/repos/pytorch/pytorch/check-runs");
    for (const write of writes)
      expect(write.token).toMatchObject({ repositories: [UPSTREAM], permissions: { checks: "write" } });
  });

  describe("L3 label back-fill", () => {
    const LABEL = "ciflow/relay/npu";
    const NAME = "relay/Ascend/pytorch";

    it("shows the check from dispatch when the label came first", async () => {
      const sha = randomSha();
      await deliver("pull_request", pullRequest("opened", { number: ++pr, headSha: sha, labels: [LABEL] }));
      expect(checks(sha, NAME)).toEqual([expect.objectContaining({ status: "queued" })]);
    });

    it("back-fills the per-downstream and running job checks when the label comes while running", async () => {
      const sha = randomSha();
      const number = ++pr;
      await deliver("pull_request", pullRequest("opened", { number, headSha: sha }));
      const record = await dispatchOf(sha, "Ascend/pytorch");
      await report(record, { scope: "job", to: "IN_PROGRESS" });
      expect(checks(sha, NAME)).toEqual([]);

      await deliver("pull_request", pullRequest("labeled", { number, headSha: sha, label: LABEL }));
      expect(checks(sha, NAME)).toEqual([expect.objectContaining({ status: "queued" })]);
      expect(checks(sha, `${NAME}/CI/build`)).toEqual([expect.objectContaining({ status: "in_progress" })]);

      await report(record, { scope: "run", to: "COMPLETED", conclusion: "success" });
      expect(checks(sha, NAME)).toEqual([expect.objectContaining({ status: "completed", conclusion: "success" })]);
    });

    it("back-fills the finished result when the label comes after the run finished", async () => {
      const sha = randomSha();
      const number = ++pr;
      await deliver("pull_request", pullRequest("opened", { number, headSha: sha }));
      await report(await dispatchOf(sha, "Ascend/pytorch"), { scope: "run", to: "COMPLETED", conclusion: "failure" });
      expect(checks(sha, NAME)).toEqual([]);

      await deliver("pull_request", pullRequest("labeled", { number, headSha: sha, label: LABEL }));
      expect(checks(sha, NAME)).toEqual([expect.objectContaining({ status: "completed", conclusion: "failure" })]);
    });
  });

  it("cancels the previous head's unfinished check runs as superseded on a new push to the PR", async () => {
    const [first, second] = [randomSha(), randomSha()];
    const number = ++pr;
    await deliver("pull_request", pullRequest("opened", { number, headSha: first }));
    await report(await dispatchOf(first, "strict/gate"), { scope: "job", to: "IN_PROGRESS" });

    await deliver("pull_request", pullRequest("synchronize", { number, headSha: second, before: first }));
    for (const name of ["relay/strict/gate", "relay/strict/gate/CI/build"]) {
      expect(checks(first, name)).toEqual([expect.objectContaining({ status: "completed", conclusion: "cancelled" })]);
      expect(checks(first, name)[0].output.title).toBe("superseded");
    }
    expect(checks(second, "relay/strict/gate")).toEqual([expect.objectContaining({ status: "queued" })]);
  });

  it("drops the previous head's dispatches not sent yet as superseded, and sends the new head's", async () => {
    await relay.runner.stop(); // nothing runs until settle(): the first head's dispatches wait in the outbox
    const [first, second] = [randomSha(), randomSha()];
    const number = ++pr;
    const sentFor = (sha: string) =>
      github.dispatches().filter((d) => (d.clientPayload.relay as { upstream: { sha: string } }).upstream.sha === sha);
    const firstId = `opened-${first}`;
    await probot.receive({
      id: firstId,
      name: "pull_request",
      payload: pullRequest("opened", { number, headSha: first }),
    } as Parameters<Probot["receive"]>[0]);
    await deliver("pull_request", pullRequest("synchronize", { number, headSha: second, before: first }));

    expect(sentFor(first)).toEqual([]);
    expect(
      sentFor(second)
        .map((d) => d.repo)
        .sort(),
    ).toEqual(["Ascend/pytorch", "quiet/observer", "strict/gate", "vendor/backend"]);
    const superseded = await dispatchOf(first, "strict/gate");
    expect(superseded).toMatchObject({ state: "superseded", supersededBy: second });
    expect(await relay.outbox.depth()).toBe(0);
    const view = await readDelivery(relay.store, relay.outbox, firstId);
    expect(view?.downstreams.map((d) => d.outcome)).toEqual(["superseded", "superseded", "superseded", "superseded"]);
    expect(await relay.metrics.registry.metrics()).toMatch(
      /ci_relay_dispatches_total\{transport="dispatch",outcome="superseded"\} [1-9]/,
    );
  });

  it("writes a job's check run once when its start and end both come before its turn, without looking it up", async () => {
    const sha = randomSha();
    await deliver("pull_request", pullRequest("opened", { number: ++pr, headSha: sha }));
    const record = await dispatchOf(sha, "strict/gate");
    github.clearRequests();
    await report(record, { scope: "job", to: "IN_PROGRESS" }, { settle: false });
    await report(
      record,
      { scope: "job", to: "COMPLETED", from: "IN_PROGRESS", conclusion: "success" },
      { settle: false },
    );
    await settle();

    const jobCheck = "relay/strict/gate/CI/build";
    expect(checks(sha, jobCheck)).toEqual([expect.objectContaining({ status: "completed", conclusion: "success" })]);
    expect(
      github
        .requestsTo("POST", "/repos/{owner}/{repo}/check-runs")
        .filter((r) => JSON.stringify(r.body ?? "").includes(jobCheck)),
    ).toHaveLength(1);
    expect(github.requestsTo("PATCH", "/repos/{owner}/{repo}/check-runs/{id}")).toEqual([]); // a job report leaves the per-downstream check as it is
    expect(github.requestsTo("GET", "/repos/{owner}/{repo}/commits/{ref}/check-runs")).toEqual([]);
  });

  describe("re-run from the upstream PR", () => {
    it("re-runs the failed jobs of a known downstream run once, however often the request is redelivered", async () => {
      const sha = randomSha();
      await deliver("pull_request", pullRequest("opened", { number: ++pr, headSha: sha }));
      const record = await dispatchOf(sha, "strict/gate");
      await report(record, { scope: "run", to: "COMPLETED", conclusion: "failure" });
      const [check] = checks(sha, "relay/strict/gate");
      const rerequest = checkRunRerequestedEvent({
        repo: UPSTREAM,
        installationId: 11,
        headSha: sha,
        checkRunId: check.id,
        name: check.name,
        externalId: check.externalId ?? "",
      });
      const before = github.reruns().length;

      await deliver("check_run", rerequest, "rerequest-1");
      await deliver("check_run", rerequest, "rerequest-1");

      expect(github.reruns().slice(before)).toEqual([
        expect.objectContaining({ repo: "strict/gate", runId: 555, kind: "rerun-failed-jobs" }),
      ]);
      const rerun = github.requestsTo("POST", "/repos/strict/gate/actions/runs/555/rerun-failed-jobs").at(-1);
      expect(rerun?.token).toMatchObject({ repositories: ["strict/gate"], permissions: { actions: "write" } });
      // A fresh check run, queued again, for the re-run to report into.
      expect(
        checks(sha, "relay/strict/gate")
          .map((r) => r.status)
          .sort(),
      ).toEqual(["completed", "queued"]);
    });

    it("dispatches again when no downstream run is known yet", async () => {
      const sha = randomSha();
      await deliver("pull_request", pullRequest("opened", { number: ++pr, headSha: sha }));
      const [check] = checks(sha, "relay/strict/gate");
      const externalId = check.externalId ?? "";
      const dispatched = github.dispatches("strict/gate").length;

      await deliver(
        "check_run",
        checkRunRerequestedEvent({
          repo: UPSTREAM,
          installationId: 11,
          headSha: sha,
          checkRunId: check.id,
          name: check.name,
          externalId,
        }),
      );

      expect(github.dispatches("strict/gate")).toHaveLength(dispatched + 1);
      const again = github.dispatches("strict/gate").at(-1)?.clientPayload as {
        relay: { request_id: string; upstream: { sha: string } };
      };
      expect(again.relay.upstream.sha).toBe(sha);
      expect(`ci-relay:${again.relay.request_id}`).not.toBe(externalId);
      // The check run follows the new dispatch, so a later re-run request finds it.
      expect(checks(sha, "relay/strict/gate").at(-1)?.externalId).toBe(`ci-relay:${again.relay.request_id}`);
    });

    it("re-runs every downstream with check runs on the commit for a suite re-run", async () => {
      const sha = randomSha();
      await deliver("pull_request", pullRequest("opened", { number: ++pr, headSha: sha }));
      await report(await dispatchOf(sha, "strict/gate"), { scope: "run", to: "COMPLETED", conclusion: "failure" });
      const before = github.reruns().length;
      const dispatchedToL3 = github.dispatches("Ascend/pytorch").length;

      await deliver("check_suite", checkSuiteRerequestedEvent({ repo: UPSTREAM, installationId: 11, headSha: sha }));

      expect(github.reruns().slice(before)).toEqual([
        expect.objectContaining({ repo: "strict/gate", runId: 555, kind: "rerun" }),
      ]);
      // The unlabelled L3 downstream shows no check run on this commit, so it is not re-run.
      expect(github.dispatches("Ascend/pytorch")).toHaveLength(dispatchedToL3);
    });
  });

  describe("timeouts", () => {
    it("times out a check still queued after pickup_timeout_minutes, and a job running past job_timeout_minutes", async () => {
      const [idle, slow] = [randomSha(), randomSha()];
      await deliver("pull_request", pullRequest("opened", { number: ++pr, headSha: idle }));
      await deliver("pull_request", pullRequest("opened", { number: ++pr, headSha: slow }));
      skipped += 4 * MINUTE;
      await report(await dispatchOf(slow, "strict/gate"), { scope: "job", to: "IN_PROGRESS" });

      skipped += 2 * MINUTE; // 6 min: past pickup for `idle`; `slow` called back, so only its job clock runs
      await sweepCheckRunTimeouts(relay, now());
      await settle();
      expect(checks(idle, "relay/strict/gate")).toEqual([
        expect.objectContaining({ status: "completed", conclusion: "timed_out" }),
      ]);
      expect(checks(slow).map((r) => r.status)).toEqual(["queued", "in_progress"]);

      skipped += 9 * MINUTE; // 15 min: the job has run 11 minutes
      await sweepCheckRunTimeouts(relay, now());
      await settle();
      expect(checks(slow).map((r) => [r.name, r.conclusion])).toEqual([
        ["relay/strict/gate", "timed_out"],
        ["relay/strict/gate/CI/build", "timed_out"],
      ]);
    });

    it("does not time out a check that finished before its deadline", async () => {
      const sha = randomSha();
      await deliver("pull_request", pullRequest("opened", { number: ++pr, headSha: sha }));
      await report(await dispatchOf(sha, "strict/gate"), { scope: "run", to: "COMPLETED", conclusion: "success" });
      skipped += 30 * MINUTE;
      await sweepCheckRunTimeouts(relay, now());
      await settle();
      expect(checks(sha, "relay/strict/gate")).toEqual([expect.objectContaining({ conclusion: "success" })]);
    });
  });

  it("survives a GitHub 502 on a check-run write: retried through the outbox, created once", async () => {
    const sha = randomSha();
    github.failNext({ method: "POST", path: "/repos/pytorch/pytorch/check-runs", status: 502 });
    await deliver("pull_request", pullRequest("opened", { number: ++pr, headSha: sha }));
    expect(checks(sha)).toEqual([]);

    skipped += 10 * 60_000; // past the outbox's backoff
    await settle();
    expect(checks(sha)).toEqual([expect.objectContaining({ name: "relay/strict/gate", status: "queued" })]);
    const posts = github
      .requestsTo("POST", "/repos/pytorch/pytorch/check-runs")
      .filter((r) => (r.body as { head_sha?: string }).head_sha === sha);
    expect(posts.map((r) => r.status)).toEqual([502, 201]);
  });
});
