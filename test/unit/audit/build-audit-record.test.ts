import { createHash } from "node:crypto";
import { buildAuditRecord } from "../../../src/audit/build-audit-record";
import { RelayError } from "../../../src/errors/failure-kinds";

const outcome = {
  requestId: "r-1",
  endpoint: "/relay/v1/callback",
  status: 200,
  failure: null,
  startedAt: 1_000,
  finishedAt: 1_250,
};

describe("audit record", () => {
  test("an accepted request: every SPEC field present, unknowns null, body as length and hash only", () => {
    const body = Buffer.from('{"relay_token":"secret-token-text"}');
    const record = buildAuditRecord(outcome, {
      operation: "callback.job.completed",
      repo: "o/r",
      identity: { repository: "o/r" },
      body,
    });
    expect(record).toEqual({
      requestId: "r-1",
      observedAt: new Date(1_250).toISOString(),
      endpoint: "/relay/v1/callback",
      caller: { plane: null, taskId: null, queueId: null },
      identity: {
        repository: "o/r",
        repository_id: null,
        workflow_ref: null,
        run_id: null,
        run_attempt: null,
        jti: null,
      },
      operation: "callback.job.completed",
      repo: "o/r",
      resource: null,
      dryRun: null,
      credentialRef: null,
      credentialValuePrinted: false,
      upstream: { method: null, path: null },
      status: 200,
      ok: true,
      failureKind: null,
      degradedReason: null,
      runnerDisposition: null,
      retryable: null,
      durationMs: 250,
      bodyLength: body.length,
      bodySha256: createHash("sha256").update(body).digest("hex"),
      redaction: { valuesPrinted: false },
    });
    expect(JSON.stringify(record)).not.toContain("secret-token-text");
  });

  test("a refused request carries the failure's kind, reason, disposition and retryability", () => {
    const failure = new RelayError("rate-limited", "slow down", "callback-rate-limited");
    const record = buildAuditRecord({ ...outcome, status: 429, failure }, {});
    expect(record).toMatchObject({
      ok: false,
      status: 429,
      failureKind: "rate-limited",
      degradedReason: "callback-rate-limited",
      runnerDisposition: "infra-blocked",
      retryable: true,
      bodyLength: null,
      bodySha256: null,
    });
  });
});
