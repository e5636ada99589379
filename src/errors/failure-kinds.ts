/**
 * errors/ owns the SPEC §5 failure kinds: the table, RelayError (what any layer throws to refuse a
 * request) and the body a failure is answered with. A leaf: it imports nothing of the relay, so every
 * layer may import it.
 */

/**
 * SPEC §5: the one table of failure kinds. Every relay endpoint answers errors from here, so adding a
 * kind is one line.
 */
export type RunnerDisposition = "infra-blocked" | "business-failed";

interface FailureKindSpec {
  status: number;
  disposition: RunnerDisposition;
  retryable: boolean;
}

export const FAILURE_KINDS = {
  "validation-failed": { status: 400, disposition: "business-failed", retryable: false },
  "unauthorized-caller": { status: 401, disposition: "infra-blocked", retryable: false },
  "token-invalid": { status: 401, disposition: "infra-blocked", retryable: false },
  "token-replayed": { status: 401, disposition: "infra-blocked", retryable: false },
  "caller-not-allowed": { status: 403, disposition: "business-failed", retryable: false },
  "repo-not-allowed": { status: 403, disposition: "business-failed", retryable: false },
  "operation-not-allowed": { status: 403, disposition: "business-failed", retryable: false },
  "github-permission-denied": { status: 403, disposition: "infra-blocked", retryable: false },
  "scope-insufficient": { status: 403, disposition: "infra-blocked", retryable: false },
  "repo-not-found": { status: 404, disposition: "business-failed", retryable: false },
  "no-dispatch": { status: 404, disposition: "business-failed", retryable: false },
  // Not in SPEC §5's table: the answer to a path no route serves, so even a 404 has the §5 shape.
  "route-not-found": { status: 404, disposition: "business-failed", retryable: false },
  "dry-run-required": { status: 409, disposition: "business-failed", retryable: false },
  "invalid-transition": { status: 409, disposition: "business-failed", retryable: false },
  "payload-too-large": { status: 413, disposition: "business-failed", retryable: false },
  "rate-limited": { status: 429, disposition: "infra-blocked", retryable: true },
  "github-rate-limited": { status: 429, disposition: "infra-blocked", retryable: true },
  "github-egress-failed": { status: 502, disposition: "infra-blocked", retryable: true },
  "upstream-invalid-response": { status: 502, disposition: "infra-blocked", retryable: true },
  "auth-not-configured": { status: 503, disposition: "infra-blocked", retryable: false },
  "store-unavailable": { status: 503, disposition: "infra-blocked", retryable: true },
} as const satisfies Record<string, FailureKindSpec>;

export type FailureKind = keyof typeof FAILURE_KINDS;

/** A request that ends in a documented failure. Thrown anywhere below a route; answered by one handler. */
export class RelayError extends Error {
  constructor(
    readonly kind: FailureKind,
    message: string,
    readonly degradedReason: string = kind,
    readonly next: string[] = [],
    /** for a 429: whole seconds until a retry can succeed, sent as Retry-After */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = "RelayError";
  }

  /** The HTTP status of its kind; read by retry classification and by Probot's webhook middleware. */
  get status(): number {
    return FAILURE_KINDS[this.kind].status;
  }
}

export interface FailureBody {
  ok: false;
  requestId: string;
  failureKind: FailureKind;
  degradedReason: string;
  runnerDisposition: RunnerDisposition;
  retryable: boolean;
  message: string;
  next: string[];
}

/** What a 429 that knows no better says: a minute, the callback window and GitHub's secondary-limit wait. */
const DEFAULT_RETRY_AFTER_SECONDS = 60;

/** The answer to a failure: its status, the SPEC §5 body, and Retry-After on every 429. */
export function failureBody(
  error: RelayError,
  requestId: string,
): { status: number; body: FailureBody; headers: Record<string, string> } {
  const spec = FAILURE_KINDS[error.kind];
  const retryAfter = Math.max(1, Math.ceil(error.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS));
  return {
    status: spec.status,
    headers: spec.status === 429 ? { "retry-after": String(retryAfter) } : {},
    body: {
      ok: false,
      requestId,
      failureKind: error.kind,
      degradedReason: error.degradedReason,
      runnerDisposition: spec.disposition,
      retryable: spec.retryable,
      message: error.message,
      next: error.next,
    },
  };
}
