import { buildJobRequests } from "../../../src/queue/build-job-requests";
import { jobEnvironment } from "../../../src/worker/job-environment";
import { queueDispatch } from "../../support/queue-dispatch";

describe("jobEnvironment", () => {
  const [request] = buildJobRequests({
    config: { runsOnDefault: "self-hosted" },
    downstream: { runsOn: "farm", jobs: [{ id: "build", runsOn: "x86" }] },
    record: queueDispatch(),
    webBaseUrl: "https://github.com",
    callbackUrl: "https://relay.example/relay/v1/callback",
    callbackToken: "the-relay-token",
    submittedAt: 0,
  });
  const env = jobEnvironment({ PATH: "/bin", REDIS_URL: "redis://:pw@host" }, request, {
    entryId: "1-0",
    attempt: 2,
    resultFile: "/tmp/r.json",
  });

  it("gives the job its request as JSON and as JOB_* variables", () => {
    expect(env).toMatchObject({
      PATH: "/bin",
      JOB_JOB_ID: "build",
      JOB_RUNS_ON: "x86",
      JOB_COMMIT_SHA: "a".repeat(40),
      JOB_PR_NUMBER: "7",
      JOB_ENTRY_ID: "1-0",
      JOB_ATTEMPT: "2",
      JOB_RESULT_FILE: "/tmp/r.json",
    });
    expect(JSON.parse(env.JOB_REQUEST_JSON ?? "{}")).toMatchObject({ request_id: request.request_id, job_id: "build" });
  });

  it("keeps the callback token and the worker's Redis URL out of the job", () => {
    expect(JSON.stringify(env)).not.toContain("the-relay-token");
    expect(env.JOB_CALLBACK_TOKEN).toBeUndefined();
    expect(env.REDIS_URL).toBeUndefined();
  });
});
