import { callbackBody, classifyReportAnswer } from "../../../src/worker/post-job-report";
import { buildJobRequests } from "../../../src/queue/build-job-requests";
import { exitConclusion } from "../../../src/worker/exit-conclusion";
import { queueDispatch } from "../../support/queue-dispatch";

const requests = (jobs: { id: string; runsOn: string }[]) =>
  buildJobRequests({
    config: { runsOnDefault: "self-hosted" },
    downstream: { runsOn: "farm", jobs },
    record: queueDispatch(),
    webBaseUrl: "https://github.com",
    callbackUrl: "https://relay.example/relay/v1/callback",
    callbackToken: "the-relay-token",
    submittedAt: 0,
  });

const report = {
  status: "completed" as const,
  conclusion: "success",
  runId: "17000000000000",
  runAttempt: 2,
  url: "https://ci.example/jobs/1",
  at: "2030-01-01T00:00:00.000Z",
};

describe("callbackBody", () => {
  it("reports the whole-downstream request as the run, with the relay token as relay_token", () => {
    const [whole] = requests([]);
    const body = callbackBody(whole, report) as { relay_token: string; workflow: Record<string, unknown> };
    expect(body.relay_token).toBe("the-relay-token");
    expect(body.workflow).toMatchObject({
      scope: "run",
      job_name: null,
      status: "completed",
      conclusion: "success",
      run_id: "17000000000000",
      run_attempt: "2",
      url: "https://ci.example/jobs/1",
    });
  });

  it("reports a declared job as that job, and prefers the link the job command wrote", () => {
    const [build] = requests([{ id: "build", runsOn: "x86" }]);
    const body = callbackBody(build, { ...report, result: { url: "https://ci.example/build/9", summary: "ok" } }) as {
      workflow: Record<string, unknown>;
    };
    expect(body.workflow).toMatchObject({
      scope: "job",
      job_name: "build",
      url: "https://ci.example/build/9",
      summary: "ok",
    });
  });
});

describe("classifyReportAnswer", () => {
  it("accepts an ok answer, duplicates included", () => {
    expect(classifyReportAnswer(200, JSON.stringify({ ok: true, duplicate: true }))).toEqual({ outcome: "accepted" });
  });

  it("leaves for later what the relay says may pass later, or a 5xx without a body", () => {
    expect(
      classifyReportAnswer(429, JSON.stringify({ ok: false, failureKind: "rate-limited", retryable: true })),
    ).toEqual({ outcome: "unreachable", detail: "rate-limited" });
    expect(classifyReportAnswer(502, "Bad Gateway")).toEqual({ outcome: "unreachable", detail: "http-502" });
  });

  it("takes a final refusal as final", () => {
    expect(
      classifyReportAnswer(401, JSON.stringify({ ok: false, failureKind: "token-invalid", retryable: false })),
    ).toEqual({ outcome: "rejected", failureKind: "token-invalid" });
    expect(
      classifyReportAnswer(409, JSON.stringify({ ok: false, failureKind: "invalid-transition", retryable: false })),
    ).toEqual({ outcome: "rejected", failureKind: "invalid-transition" });
  });
});

describe("exitConclusion", () => {
  it("maps exit 0 to success and other codes to failure", () => {
    expect(exitConclusion({ code: 0, signal: null })).toBe("success");
    expect(exitConclusion({ code: 3, signal: null })).toBe("failure");
  });

  it("treats a command killed by a signal as a crash to deliver again", () => {
    expect(exitConclusion({ code: null, signal: "SIGKILL" })).toBeNull();
  });
});
