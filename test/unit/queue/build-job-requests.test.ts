import { buildJobRequests, type JobRequestInput } from "../../../src/queue/build-job-requests";
import { jobRequestSchema, WHOLE_RUN_JOB_ID } from "../../../src/queue/job-request";
import { queueDispatch } from "../../support/queue-dispatch";

const input = (overrides: Partial<JobRequestInput> = {}): JobRequestInput => ({
  config: { runsOnDefault: "self-hosted" },
  downstream: { runsOn: "farm-x86", jobs: [] },
  record: queueDispatch(),
  webBaseUrl: "https://github.com",
  callbackUrl: "https://relay.example/relay/v1/callback",
  callbackToken: "header.claims.signature",
  submittedAt: Date.parse("2030-01-01T00:00:05Z"),
  ...overrides,
});

describe("buildJobRequests", () => {
  it("writes exactly the jobrequest.v1 fields, every value text", () => {
    const [request] = buildJobRequests(input());
    expect(request).toEqual({
      schema_version: "jobrequest.v1",
      request_id: "6f0c5b9e-1111-4222-8333-444455556666",
      job_id: WHOLE_RUN_JOB_ID,
      delivery_id: "delivery-1",
      source: "github",
      repo_url: "https://github.com/pytorch/pytorch",
      commit_sha: "a".repeat(40),
      event: "pull_request",
      pr_number: "7",
      runs_on: "farm-x86",
      level: "L4",
      downstream: "Farm/Gate",
      callback_url: "https://relay.example/relay/v1/callback",
      callback_token: "header.claims.signature",
      submitted_at: "2030-01-01T00:00:05.000Z",
      repo_owner: "pytorch",
      repo_name: "pytorch",
      clone_url: "https://github.com/pytorch/pytorch.git",
      group_id: "6f0c5b9e-1111-4222-8333-444455556666",
    });
    for (const value of Object.values(request)) expect(typeof value).toBe("string");
    expect(jobRequestSchema.safeParse(request).success).toBe(true);
  });

  it("names the fork's clone URL for a fork PR, where its commit lives", () => {
    const record = queueDispatch({
      upstream: {
        repo: "pytorch/pytorch",
        sha: "c".repeat(40),
        ref: "refs/pull/7/head",
        prNumber: 7,
        cloneUrl: "https://github.com/someone/pytorch.git",
      },
    });
    const [request] = buildJobRequests(input({ record }));
    expect(request).toMatchObject({
      clone_url: "https://github.com/someone/pytorch.git",
      repo_owner: "pytorch",
      repo_name: "pytorch",
    });
    expect(jobRequestSchema.safeParse(request).success).toBe(true);
  });

  it("sends one request for a downstream that declares no jobs", () => {
    expect(buildJobRequests(input())).toHaveLength(1);
  });

  it("sends one request per declared job, each with the dispatch's request id and token", () => {
    const requests = buildJobRequests(
      input({
        downstream: {
          runsOn: "farm-x86",
          jobs: [
            { id: "build", runsOn: "" },
            { id: "test", runsOn: "gpu" },
          ],
        },
      }),
    );
    expect(requests.map((r) => [r.job_id, r.runs_on])).toEqual([
      ["build", "farm-x86"],
      ["test", "gpu"],
    ]);
    expect(new Set(requests.map((r) => r.request_id)).size).toBe(1);
    expect(new Set(requests.map((r) => r.callback_token)).size).toBe(1);
  });

  it("falls back from the job's runs_on to the downstream's, then to runs_on_default", () => {
    const [request] = buildJobRequests(input({ downstream: { runsOn: "", jobs: [{ id: "build", runsOn: "" }] } }));
    expect(request.runs_on).toBe("self-hosted");
  });

  it("leaves pr_number empty for a push", () => {
    const record = queueDispatch({
      event: "push",
      upstream: { repo: "pytorch/pytorch", sha: "b".repeat(40), ref: "refs/heads/main", prNumber: null },
    });
    const [request] = buildJobRequests(input({ record }));
    expect(request.pr_number).toBe("");
    expect(request.event).toBe("push");
  });
});
