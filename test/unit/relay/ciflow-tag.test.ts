import { ciflowPrNumber } from "../../../src/relay/ciflow-tag";
import { parseUpstreamEvent } from "../../../src/relay/upstream-event";

describe("ciflow tags", () => {
  it.each([
    ["refs/tags/ciflow/trunk/123", 123],
    ["refs/tags/ciflow/rocm-mi300/98765", 98765],
    ["refs/tags/ciflow/a/b/7", 7],
    ["refs/tags/ciflow/trunk/0", null],
    ["refs/tags/ciflow/trunk/12x", null],
    ["refs/tags/ciflow/123", null],
    ["refs/tags/v1.0", null],
    ["refs/heads/ciflow/trunk/123", null],
  ])("%s names PR %p", (ref, number) => {
    expect(ciflowPrNumber(ref)).toBe(number);
  });

  it("parses a ciflow tag push as a push for PR #N on the commit the tag points at", () => {
    const commit = "c".repeat(40);
    const event = parseUpstreamEvent("push", {
      ref: "refs/tags/ciflow/trunk/123",
      after: "d".repeat(40),
      head_commit: { id: commit },
      repository: { full_name: "pytorch/pytorch", clone_url: "https://github.com/pytorch/pytorch.git" },
    });
    expect(event).toMatchObject({
      event: "push",
      ref: "refs/tags/ciflow/trunk/123",
      sha: commit,
      prNumber: 123,
      deleted: false,
      cloneUrl: "https://github.com/pytorch/pytorch.git",
    });
  });

  it("a branch push names no PR and keeps `after`", () => {
    const event = parseUpstreamEvent("push", {
      ref: "refs/heads/main",
      after: "d".repeat(40),
      head_commit: { id: "d".repeat(40) },
      repository: { full_name: "pytorch/pytorch" },
    });
    expect(event).toMatchObject({ sha: "d".repeat(40), prNumber: null });
  });
});
