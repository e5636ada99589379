import { matchGrant, type BrokerIdentity } from "../../../src/broker/match-grant";
import type { BrokerGrant } from "../../../src/config/types";

const grant: BrokerGrant = {
  caller: {
    repository: "Ascend/pytorch",
    repositoryId: "123456789",
    workflowRef: "Ascend/pytorch/.github/workflows/*.yml@refs/heads/*",
    ref: "refs/heads/*",
    eventName: ["repository_dispatch", "push"],
  },
  repos: ["pytorch/pytorch"],
  operations: ["github.issue.read", "github.pr.read", "github.pr.comment.create", "github.pr.create"],
  live: ["github.pr.comment.create"],
};

const identity: BrokerIdentity = {
  repository: "ascend/PyTorch",
  repository_id: "123456789",
  workflow_ref: "Ascend/pytorch/.github/workflows/upstream.yml@refs/heads/main",
  ref: "refs/heads/main",
  event_name: "repository_dispatch",
};

describe("matchGrant", () => {
  it.each<[string, Partial<BrokerIdentity>, string, string, ReturnType<typeof matchGrant>]>([
    [
      "a granted read (names compared case-insensitively)",
      {},
      "PyTorch/PyTorch",
      "github.issue.read",
      { allowed: true, live: false },
    ],
    ["a write listed under live", {}, "pytorch/pytorch", "github.pr.comment.create", { allowed: true, live: true }],
    ["a write granted dry-run only", {}, "pytorch/pytorch", "github.pr.create", { allowed: true, live: false }],
    [
      "another repository's identity",
      { repository: "evil/pytorch" },
      "pytorch/pytorch",
      "github.issue.read",
      { allowed: false, kind: "caller-not-allowed" },
    ],
    [
      "a re-created repository (other repository_id)",
      { repository_id: "999" },
      "pytorch/pytorch",
      "github.issue.read",
      { allowed: false, kind: "caller-not-allowed" },
    ],
    [
      "a workflow outside the glob",
      { workflow_ref: "Ascend/pytorch/.github/workflows/x.yml@refs/tags/v1" },
      "pytorch/pytorch",
      "github.issue.read",
      { allowed: false, kind: "caller-not-allowed" },
    ],
    [
      "a branch smuggling the pinned ref after an @",
      { workflow_ref: "Ascend/pytorch/.github/workflows/evil.yml@refs/heads/x@refs/heads/main" },
      "pytorch/pytorch",
      "github.issue.read",
      { allowed: false, kind: "caller-not-allowed" },
    ],
    [
      "a workflow below workflows/",
      { workflow_ref: "Ascend/pytorch/.github/workflows/sub/evil.yml@refs/heads/main" },
      "pytorch/pytorch",
      "github.issue.read",
      { allowed: false, kind: "caller-not-allowed" },
    ],
    [
      "a workflow_ref in another letter case of its owner/repo",
      { workflow_ref: "ascend/PyTorch/.github/workflows/upstream.yml@refs/heads/main" },
      "pytorch/pytorch",
      "github.issue.read",
      { allowed: true, live: false },
    ],
    [
      "a ref with a nested branch",
      { ref: "refs/heads/a/b" },
      "pytorch/pytorch",
      "github.issue.read",
      { allowed: false, kind: "caller-not-allowed" },
    ],
    [
      "a ref with an @ in the branch",
      { ref: "refs/heads/a@b" },
      "pytorch/pytorch",
      "github.issue.read",
      { allowed: false, kind: "caller-not-allowed" },
    ],
    [
      "a ref in another letter case",
      { ref: "REFS/heads/main" },
      "pytorch/pytorch",
      "github.issue.read",
      { allowed: false, kind: "caller-not-allowed" },
    ],
    [
      "a ref outside the glob",
      { ref: "refs/tags/v1" },
      "pytorch/pytorch",
      "github.issue.read",
      { allowed: false, kind: "caller-not-allowed" },
    ],
    [
      "an event not listed",
      { event_name: "pull_request_target" },
      "pytorch/pytorch",
      "github.issue.read",
      { allowed: false, kind: "caller-not-allowed" },
    ],
    [
      "a missing claim where the grant pins one",
      { event_name: undefined },
      "pytorch/pytorch",
      "github.issue.read",
      { allowed: false, kind: "caller-not-allowed" },
    ],
    [
      "a repository outside the grant",
      {},
      "pytorch/vision",
      "github.issue.read",
      { allowed: false, kind: "repo-not-allowed" },
    ],
    [
      "an operation outside the grant",
      {},
      "pytorch/pytorch",
      "github.issue.list",
      { allowed: false, kind: "operation-not-allowed" },
    ],
  ])("%s", (_name, change, repo, operation, expected) => {
    expect(matchGrant([grant], { ...identity, ...change }, repo, operation)).toEqual(expected);
  });

  it("denies everything without grants", () => {
    expect(matchGrant([], identity, "pytorch/pytorch", "github.issue.read")).toEqual({
      allowed: false,
      kind: "caller-not-allowed",
    });
  });

  it("treats absent pins as any value and `*` as any workflow_ref", () => {
    const open: BrokerGrant = {
      caller: { repository: "Ascend/pytorch", workflowRef: "*" },
      repos: ["pytorch/pytorch"],
      operations: ["github.pr.read"],
      live: [],
    };
    expect(
      matchGrant(
        [open],
        { repository: "Ascend/pytorch", workflow_ref: "Ascend/pytorch/.github/workflows/a.yml@refs/pull/1/merge" },
        "pytorch/pytorch",
        "github.pr.read",
      ),
    ).toEqual({ allowed: true, live: false });
  });

  it("matches event_name entries as patterns, exactly when literal", () => {
    const events: BrokerGrant = { ...grant, caller: { repository: "Ascend/pytorch", eventName: ["workflow_*"] } };
    expect(
      matchGrant([events], { ...identity, event_name: "workflow_dispatch" }, "pytorch/pytorch", "github.issue.read"),
    ).toEqual({ allowed: true, live: false });
    expect(
      matchGrant([events], { ...identity, event_name: "repository_dispatch" }, "pytorch/pytorch", "github.issue.read")
        .allowed,
    ).toBe(false);
    expect(
      matchGrant([grant], { ...identity, event_name: "Push" }, "pytorch/pytorch", "github.issue.read").allowed,
    ).toBe(false);
  });

  it("combines grants: live on one grant of the identity is enough", () => {
    const dryOnly: BrokerGrant = { ...grant, live: [] };
    const live: BrokerGrant = { ...grant, operations: ["github.pr.create"], live: ["github.pr.create"] };
    expect(matchGrant([dryOnly, live], identity, "pytorch/pytorch", "github.pr.create")).toEqual({
      allowed: true,
      live: true,
    });
  });
});
