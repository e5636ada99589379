import { expect } from "@jest/globals";
import pino from "pino";
import { Probot, ProbotOctokit } from "probot";
import { downstreamCheckName } from "../../src/checks/check-run-names";
import { checksShownOp, wantedCheckRunOps, type CheckRunState } from "../../src/records/check-runs";
import { readOncallComment } from "../../src/records/oncall-comments";
import { parseRelayConfig } from "../../src/config/parse-relay-config";
import { AppGitHub } from "../../src/github/app-github";
import { createMetrics } from "../../src/metrics/metrics";
import { ONCALL_COMMENT_TASK, oncallCommentOps } from "../../src/checks/oncall/oncall-comment-state";
import { oncallCommentTask } from "../../src/checks/oncall/oncall-comment-task";
import { Outbox, type Task } from "../../src/outbox/outbox";
import { RedisStore } from "../../src/store/redis-store";
import { testAppCredentials } from "../support/app-key";
import { dispatchRecord } from "../support/dispatch-fixtures";
import { startFakeGitHub, type FakeGitHub } from "../support/fake-github";
import { cleanupRedisPrefix, testRedisUrl, uniqueRedisPrefix } from "../support/redis-prefix";
import { randomSha } from "../support/webhooks";

/**
 * The oncall-comment task in process, on the real Redis (its own prefix) against the fake GitHub:
 * what happens when the outbox hands the same work to two workers at once, or twice in a row.
 */

const UPSTREAM = "pytorch/pytorch";
const config = parseRelayConfig(
  `
version: 1
upstreams: [${UPSTREAM}]
downstreams:
  - { repo: strict/gate, level: L4, oncalls: [alice], notify: [comment] }
  - { repo: Ascend/pytorch, level: L3, device: npu, oncalls: [bob], notify: [comment] }
  - { repo: vendor/backend, level: L2 }
`,
  { source: "relay.yml" },
);

describe("oncall-comment task (real Redis, fake GitHub)", () => {
  const prefix = uniqueRedisPrefix();
  const store = new RedisStore(testRedisUrl(), prefix);
  let github: FakeGitHub;
  let handler: ReturnType<typeof oncallCommentTask>;
  let pr = 500;

  beforeAll(async () => {
    github = await startFakeGitHub();
    github.addInstallation({ id: 11, account: "pytorch", repos: [UPSTREAM] });
    const { appId, privateKeyPem } = testAppCredentials();
    const probot = new Probot({
      appId,
      privateKey: privateKeyPem,
      baseUrl: github.apiUrl,
      log: pino({ level: "silent" }),
      Octokit: ProbotOctokit.defaults({ retry: { enabled: false } }),
    });
    handler = oncallCommentTask({
      store,
      github: new AppGitHub(probot, store, createMetrics()),
      config: { get: async () => config },
      log: pino({ level: "silent" }),
      publicUrl: "http://relay.test",
    });
  });
  afterAll(async () => {
    await store.close();
    await cleanupRedisPrefix(prefix);
    await github?.close();
  });

  /** A PR the fake GitHub knows, whose `downstream` per-downstream check on the head concluded `conclusion`. */
  async function concludedCheck(
    downstream: string,
    conclusion: CheckRunState["conclusion"],
    options: { shown?: boolean } = {},
  ) {
    const number = ++pr;
    const sha = randomSha();
    github.setPull(UPSTREAM, { number, head: { sha } });
    const requestId = `req-${number}`;
    const name = downstreamCheckName(config.checkPrefix, downstream);
    const state: CheckRunState = {
      requestId,
      downstream,
      upstream: UPSTREAM,
      sha,
      name,
      externalId: requestId,
      workflow: null,
      job: null,
      status: "completed",
      conclusion,
      detailsUrl: `https://github.com/${downstream}/actions/runs/1`,
      title: String(conclusion),
      summary: "",
      at: Date.now(),
    };
    await store.write([...wantedCheckRunOps(state), ...(options.shown === false ? [] : [checksShownOp(requestId)])]);
    const task = (id: string): Task<typeof ONCALL_COMMENT_TASK> => ({
      id,
      kind: ONCALL_COMMENT_TASK,
      data: { upstream: UPSTREAM, prNumber: number, sha },
      createdAt: 0,
      attempts: 0,
      lastError: null,
    });
    return { number, task };
  }

  const posts = (number: number) => github.requestsTo("POST", `/repos/${UPSTREAM}/issues/${number}/comments`);
  const patches = () => github.requestsTo("PATCH", `/repos/${UPSTREAM}/issues/comments/{id}`);

  it("two workers running the task at once make one comment; the task run again sends nothing", async () => {
    const { number, task } = await concludedCheck("strict/gate", "failure");
    const outcomes = await Promise.allSettled([handler.run(task("t-1")), handler.run(task("t-2"))]);
    // The one that found the PR taken is retried by the outbox: its retry finds the comment made.
    const retried = outcomes.filter((o) => o.status === "rejected");
    expect(retried.length).toBeLessThanOrEqual(1);
    for (const failure of retried)
      expect(String((failure as PromiseRejectedResult).reason)).toContain("being written by another task");
    await handler.run(task("t-2"));
    await handler.run(task("t-1"));

    expect(posts(number)).toHaveLength(1);
    expect(github.comments(UPSTREAM, number)).toHaveLength(1);
    expect(github.comments(UPSTREAM, number)[0].body).toContain("@alice");
    expect(patches()).toEqual([]);
    // Every run after the first asked GitHub nothing at all: the stored digest says it is shown.
    expect(github.requestsTo("GET", `/repos/${UPSTREAM}/pulls/${number}`)).toHaveLength(1);
    expect(await readOncallComment(store, UPSTREAM, number)).toEqual({
      id: github.comments(UPSTREAM, number)[0].id,
      bodySha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
  });

  it("says nothing of an L3 check the PR does not show (no device label), and asks GitHub nothing", async () => {
    const { number, task } = await concludedCheck("Ascend/pytorch", "failure", { shown: false });
    await handler.run(task("t-3"));
    expect(github.requestsTo("GET", `/repos/${UPSTREAM}/pulls/${number}`)).toEqual([]);
    expect(posts(number)).toEqual([]);
  });

  it("is scheduled for a PR's notifying downstream only", () => {
    const outbox = new Outbox(store);
    const pull = dispatchRecord({ downstream: "strict/gate", level: "L4" });
    expect(oncallCommentOps(outbox, config, pull, 0)).not.toEqual([]);
    expect(oncallCommentOps(outbox, config, { ...pull, upstream: { ...pull.upstream, prNumber: null } }, 0)).toEqual(
      [],
    );
    expect(oncallCommentOps(outbox, config, { ...pull, downstream: "vendor/backend" }, 0)).toEqual([]);
    expect(oncallCommentOps(outbox, config, { ...pull, downstream: "gone/away" }, 0)).toEqual([]);
  });
});
