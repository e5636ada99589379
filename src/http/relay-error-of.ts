import { RelayError, type FailureKind } from "../errors/failure-kinds";

/** The SPEC §5 kind for each HTTP status a library or a handler refuses with. */
const KIND_OF_STATUS: Readonly<Record<number, FailureKind>> = {
  400: "validation-failed",
  404: "route-not-found",
  413: "payload-too-large",
  429: "rate-limited",
  503: "store-unavailable",
};

interface StatusError {
  status?: unknown;
  statusCode?: unknown;
  message?: unknown;
}

/**
 * Which documented failure an error is: a RelayError is itself; an error carrying an HTTP status
 * (Express's and body readers' refusals, Probot's bad signature, a webhook handler's 503) is the kind
 * of that status, with its own message, which such errors keep free of secrets. Null for anything
 * else: a fault, which its caller logs and answers generically. Pure.
 */
export function relayErrorOf(error: unknown): RelayError | null {
  if (error instanceof RelayError) return error;
  if (error === null || typeof error !== "object") return null;
  const { status, statusCode, message } = error as StatusError;
  const code = typeof status === "number" ? status : statusCode;
  const kind = typeof code === "number" ? KIND_OF_STATUS[code] : undefined;
  if (kind === undefined) return null;
  return new RelayError(kind, typeof message === "string" && message !== "" ? message : `refused (${code})`);
}
