import { githubEventTime } from "../../../src/relay/github-event-time";
import { pullRequestEvent, pushEvent } from "../../support/webhooks";

describe("githubEventTime", () => {
  it("reads a PR delivery's time from pull_request.updated_at", () => {
    const payload = pullRequestEvent("synchronize", { repo: "pytorch/pytorch", installationId: 1 });
    payload.pull_request.updated_at = "2026-12-01T09:30:15Z";
    expect(githubEventTime("pull_request", payload)).toBe(Date.parse("2026-12-01T09:30:15Z"));
  });

  it("reads a push's time from repository.pushed_at, which push payloads give in epoch seconds", () => {
    const payload = pushEvent({ repo: "pytorch/pytorch", installationId: 1 });
    (payload.repository as { pushed_at: unknown }).pushed_at = 1_795_000_000;
    expect(githubEventTime("push", payload)).toBe(1_795_000_000_000);
  });

  it("is null when the payload carries no usable time", () => {
    expect(githubEventTime("push", { repository: { full_name: "o/r" } })).toBeNull();
    expect(githubEventTime("pull_request", { pull_request: { updated_at: "not a date" } })).toBeNull();
    expect(githubEventTime("pull_request", "nonsense")).toBeNull();
  });
});
