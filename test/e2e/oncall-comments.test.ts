import {
  callBack,
  dispatchPr,
  startCallbackWorld,
  waitUntil,
  workflowReport,
  type CallbackWorld,
  type Dispatched,
} from "../support/callback-world";
import type { RecordedRequest } from "../support/fake-github";
import { pullRequestEvent, randomSha, sendWebhook } from "../support/webhooks";

/**
 * SPEC §2 `notify: [comment]` end to end: the real server, the fake GitHub, the local OIDC issuer and
 * Redis. Downstreams report with `scope: "run"` callbacks (what concludes the per-downstream check);
 * the comment is what the fake GitHub holds on the upstream PR.
 */

const UPSTREAM = "pytorch/pytorch";
const CONFIG = `
version: 1
upstreams: [${UPSTREAM}]
downstreams:
  - { repo: strict/gate, level: L4, oncalls: [alice, bob], notify: [comment] }
  - { repo: vendor/npu, level: L4, oncalls: ["@carol"], notify: [comment] }
  - { repo: quiet/gate, level: L4, oncalls: [dave] }
  - { repo: Ascend/pytorch, level: L3, device: npu, oncalls: [erin], notify: [comment] }
`;
const REPOS = ["strict/gate", "vendor/npu", "quiet/gate", "Ascend/pytorch"];
/** Every wait polls; the bound only ends a test that would otherwise hang. */
const WAIT_MS = 30_000;

describe("oncall comments (real server, fake GitHub, Redis)", () => {
  let world: CallbackWorld;

  beforeAll(async () => {
    world = await startCallbackWorld(CONFIG, REPOS);
  }, 90_000);
  afterAll(async () => {
    await world?.close();
  });

  /** Dispatches a PR to every downstream and makes it a PR the fake GitHub knows, at that head. */
  async function openPr(): Promise<{ number: number; sha: string; dispatched: Record<string, Dispatched> }> {
    const dispatched = await dispatchPr(world, REPOS);
    const { sha, pr_number: number } = dispatched["strict/gate"].clientPayload.relay.upstream;
    if (number === null) throw new Error("a PR's dispatch names no PR number");
    world.github.setPull(UPSTREAM, { number, head: { sha } });
    return { number, sha, dispatched };
  }

  const runResult = (dispatched: Dispatched, repo: string, conclusion: string, attempt: string) =>
    callBack(
      world,
      dispatched,
      workflowReport({
        scope: "run",
        job_name: null,
        status: "completed",
        conclusion,
        run_attempt: attempt,
        url: runUrl(repo, attempt),
      }),
      repo,
    );
  const runUrl = (repo: string, attempt: string) => `https://github.com/${repo}/actions/runs/4242/attempts/${attempt}`;

  const comments = (number: number) => world.github.comments(UPSTREAM, number);
  const posts = (number: number) =>
    world.github.requestsTo("POST", `/repos/${UPSTREAM}/issues/${number}/comments`).filter((r) => r.status === 201);
  const patches = () => world.github.requestsTo("PATCH", `/repos/${UPSTREAM}/issues/comments/{id}`);
  const headReads = (number: number) => world.github.requestsTo("GET", `/repos/${UPSTREAM}/pulls/${number}`);
  const bodyOf = (number: number) => comments(number)[0]?.body ?? "";
  const rowOf = (number: number, repo: string) =>
    bodyOf(number)
      .split("\n")
      .find((line) => line.startsWith(`| ${repo} |`)) ?? null;

  async function outboxIdle(): Promise<void> {
    await waitUntil(
      async () =>
        ((await (await fetch(world.relay.url("/relay/health"))).json()) as { outbox: { depth: number } }).outbox
          .depth === 0,
      WAIT_MS,
      "outbox drained",
    );
  }

  it("comments once on a failing L4 run, naming the oncalls, and edits that comment with every later result", async () => {
    const { number, sha, dispatched } = await openPr();

    expect((await runResult(dispatched["strict/gate"], "strict/gate", "failure", "1")).json).toMatchObject({
      ok: true,
      duplicate: false,
    });
    await waitUntil(() => comments(number).length === 1, WAIT_MS, "the oncall comment");
    const [comment] = comments(number);
    expect(comment.body).toContain("<!-- ci-relay:oncall-comment -->");
    expect(comment.body).toContain(sha.slice(0, 10));
    expect(rowOf(number, "strict/gate")).toBe(
      `| strict/gate | **failure** · [run](${runUrl("strict/gate", "1")}) | @alice @bob |`,
    );
    // Each notifying downstream's latest state on the head: the other one has not reported yet.
    expect(rowOf(number, "vendor/npu")).toMatch(
      /^\| vendor\/npu \| queued · \[run\]\(http:\/\/127\.0\.0\.1:\d+\/relay\/\?upstream=pytorch%2Fpytorch&pr=\d+\) \| {2}\|$/,
    );
    expect(comment.user).toMatch(/\[bot\]$/);

    // The same callback again (a retried step): a duplicate, and the comment is not made again.
    expect((await runResult(dispatched["strict/gate"], "strict/gate", "failure", "1")).json).toMatchObject({
      ok: true,
      duplicate: true,
    });

    // Another notifying downstream of the same PR fails: the same comment, edited.
    await runResult(dispatched["vendor/npu"], "vendor/npu", "failure", "1");
    await waitUntil(
      () => rowOf(number, "vendor/npu")?.includes("failure") === true,
      WAIT_MS,
      "vendor/npu's failure in the comment",
    );
    expect(rowOf(number, "vendor/npu")).toBe(
      `| vendor/npu | **failure** · [run](${runUrl("vendor/npu", "1")}) | @carol |`,
    );

    // A second failure of the first downstream (a re-run): edited again, with the new run.
    await runResult(dispatched["strict/gate"], "strict/gate", "failure", "2");
    await waitUntil(() => bodyOf(number).includes(runUrl("strict/gate", "2")), WAIT_MS, "the re-run's failure");

    // Then a success: edited to say so, and its oncalls are no longer pinged.
    await runResult(dispatched["strict/gate"], "strict/gate", "success", "3");
    await waitUntil(() => rowOf(number, "strict/gate")?.includes("success") === true, WAIT_MS, "the success");
    expect(rowOf(number, "strict/gate")).toBe(`| strict/gate | success · [run](${runUrl("strict/gate", "3")}) |  |`);
    expect(rowOf(number, "vendor/npu")).toContain("@carol");

    // A downstream without notify fails: it is not in the comment.
    await runResult(dispatched["quiet/gate"], "quiet/gate", "failure", "1");
    await outboxIdle();
    expect(rowOf(number, "quiet/gate")).toBeNull();

    // A new head: the comment turns to what runs on it, and pings no one.
    const next = randomSha();
    world.github.setPull(UPSTREAM, { number, head: { sha: next } });
    const pushed = pullRequestEvent("synchronize", {
      repo: UPSTREAM,
      installationId: 11,
      authorAssociation: "MEMBER",
      number,
      headSha: next,
      before: sha,
    });
    expect(
      (
        await sendWebhook(world.relay.baseUrl, {
          event: "pull_request",
          payload: pushed,
          deliveryId: `sync-${number}-${next.slice(0, 8)}`,
        })
      ).status,
    ).toBe(200);
    await waitUntil(() => bodyOf(number).includes(next.slice(0, 10)), WAIT_MS, "the comment on the new head");
    expect(rowOf(number, "strict/gate")).toMatch(/^\| strict\/gate \| queued · /);
    expect(rowOf(number, "vendor/npu")).toMatch(/^\| vendor\/npu \| queued · /);
    expect(bodyOf(number)).not.toMatch(/@\w/);

    expect(comments(number)).toHaveLength(1);
    expect(posts(number)).toHaveLength(1);
    expect(patches().filter((r) => r.status === 200).length).toBeGreaterThanOrEqual(4);
  });

  it("shows an L3 downstream once the PR carries its device label, with the failure it had before", async () => {
    const { number, sha, dispatched } = await openPr();
    await runResult(dispatched["Ascend/pytorch"], "Ascend/pytorch", "failure", "1");
    await outboxIdle();
    expect(comments(number)).toEqual([]);

    const labeled = pullRequestEvent("labeled", {
      repo: UPSTREAM,
      installationId: 11,
      authorAssociation: "MEMBER",
      number,
      headSha: sha,
      label: "ciflow/relay/npu",
    });
    expect(
      (
        await sendWebhook(world.relay.baseUrl, {
          event: "pull_request",
          payload: labeled,
          deliveryId: `label-${number}-${randomSha().slice(0, 8)}`,
        })
      ).status,
    ).toBe(200);
    await waitUntil(() => comments(number).length === 1, WAIT_MS, "the oncall comment after the label");
    expect(rowOf(number, "Ascend/pytorch")).toBe(
      `| Ascend/pytorch | **failure** · [run](${runUrl("Ascend/pytorch", "1")}) | @erin |`,
    );
  });

  it("changes nothing for a result on a commit that is no longer the PR's head", async () => {
    const { number, dispatched } = await openPr();
    world.github.setPull(UPSTREAM, { number, head: { sha: randomSha() } });

    await runResult(dispatched["strict/gate"], "strict/gate", "failure", "1");
    await world.github.waitFor(
      (r: RecordedRequest) => r.method === "GET" && r.path === `/repos/${UPSTREAM}/pulls/${number}`,
      WAIT_MS,
    );
    await outboxIdle();
    expect(comments(number)).toEqual([]);
    expect(posts(number)).toEqual([]);
  });

  it("makes the comment again when someone deleted it, and never for a PR whose results all pass", async () => {
    const failing = await openPr();
    await runResult(failing.dispatched["vendor/npu"], "vendor/npu", "timed_out", "1");
    await waitUntil(() => comments(failing.number).length === 1, WAIT_MS, "the oncall comment");
    expect(rowOf(failing.number, "vendor/npu")).toContain("**timed out**");
    world.github.deleteComment(comments(failing.number)[0].id);

    await runResult(failing.dispatched["strict/gate"], "strict/gate", "failure", "1");
    await waitUntil(() => comments(failing.number).length === 1, WAIT_MS, "a new oncall comment");
    expect(rowOf(failing.number, "strict/gate")).toContain("@alice @bob");
    expect(rowOf(failing.number, "vendor/npu")).toContain("**timed out**");
    expect(posts(failing.number)).toHaveLength(2);

    const passing = await openPr();
    await runResult(passing.dispatched["strict/gate"], "strict/gate", "success", "1");
    await runResult(passing.dispatched["vendor/npu"], "vendor/npu", "success", "1");
    await outboxIdle();
    expect(comments(passing.number)).toEqual([]);
    // Nothing to say: not even the head was asked of GitHub.
    expect(headReads(passing.number)).toEqual([]);
  });
});
