/**
 * SPEC §6 audit record: one per broker request and per callback, accepted or not. Never a token, a
 * secret or a full body: bodies appear as length and SHA-256 only. Unknown fields are null.
 */
export interface AuditRecord {
  requestId: string;
  observedAt: string;
  /** the request path */
  endpoint: string;
  caller: { plane: string | null; taskId: string | null; queueId: string | null };
  identity: {
    repository: string | null;
    repository_id: string | null;
    workflow_ref: string | null;
    run_id: string | null;
    run_attempt: string | null;
    jti: string | null;
  };
  operation: string | null;
  repo: string | null;
  resource: string | null;
  dryRun: boolean | null;
  credentialRef: string | null;
  credentialValuePrinted: false;
  upstream: { method: string | null; path: string | null };
  status: number;
  ok: boolean;
  failureKind: string | null;
  degradedReason: string | null;
  runnerDisposition: string | null;
  retryable: boolean | null;
  durationMs: number;
  bodyLength: number | null;
  bodySha256: string | null;
  redaction: { valuesPrinted: false };
}

/** Where audit records go: the log, AUDIT_LOG when set, and the capped Redis stream `relay:audit`. */
export interface AuditSink {
  record(entry: AuditRecord): Promise<void>;
}
