import { createHash } from "node:crypto";
import type { RelayError } from "../errors/failure-kinds";
import { failureBody } from "../errors/failure-kinds";
import type { AuditRecord } from "./audit-record";

/** What an endpoint learned about a request while handling it; everything is optional. */
export interface AuditFacts {
  caller?: Partial<AuditRecord["caller"]>;
  identity?: Partial<AuditRecord["identity"]>;
  operation?: string;
  repo?: string;
  resource?: string;
  dryRun?: boolean;
  credentialRef?: string;
  upstream?: Partial<AuditRecord["upstream"]>;
  body?: Buffer;
}

export interface AuditOutcome {
  requestId: string;
  endpoint: string;
  status: number;
  failure: RelayError | null;
  startedAt: number;
  finishedAt: number;
}

/**
 * SPEC §6: one audit record per request. Bodies become length and SHA-256; no field takes a token or a
 * secret (none of AuditFacts can hold one), and what was not learned is null. Pure.
 */
export function buildAuditRecord(outcome: AuditOutcome, facts: AuditFacts): AuditRecord {
  const failure = outcome.failure === null ? null : failureBody(outcome.failure, outcome.requestId).body;
  return {
    requestId: outcome.requestId,
    observedAt: new Date(outcome.finishedAt).toISOString(),
    endpoint: outcome.endpoint,
    caller: { plane: null, taskId: null, queueId: null, ...facts.caller },
    identity: {
      repository: null,
      repository_id: null,
      workflow_ref: null,
      run_id: null,
      run_attempt: null,
      jti: null,
      ...facts.identity,
    },
    operation: facts.operation ?? null,
    repo: facts.repo ?? null,
    resource: facts.resource ?? null,
    dryRun: facts.dryRun ?? null,
    credentialRef: facts.credentialRef ?? null,
    credentialValuePrinted: false,
    upstream: { method: null, path: null, ...facts.upstream },
    status: outcome.status,
    ok: failure === null,
    failureKind: failure?.failureKind ?? null,
    degradedReason: failure?.degradedReason ?? null,
    runnerDisposition: failure?.runnerDisposition ?? null,
    retryable: failure?.retryable ?? null,
    durationMs: Math.max(0, outcome.finishedAt - outcome.startedAt),
    bodyLength: facts.body?.length ?? null,
    bodySha256: facts.body === undefined ? null : createHash("sha256").update(facts.body).digest("hex"),
    redaction: { valuesPrinted: false },
  };
}
