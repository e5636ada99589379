/**
 * broker/ owns the SPEC §5 GitHub broker: the operation table (operations.ts), matching a caller's
 * identity to a grant (pure), planning and sending the one GitHub call with its field selection and
 * idempotent writes, and the github-operation and pr-preflight routes.
 */
import type { RequestHandler } from "express";
import type { Logger } from "pino";
import { z } from "zod";
import type { AuditSink } from "../audit/audit-record";
import { buildAuditRecord, type AuditFacts } from "../audit/build-audit-record";
import { extractBearer } from "../auth/bearer";
import type { OidcIdentity, OidcVerifier } from "../auth/oidc-verifier";
import { claimJti } from "../auth/replay-guard";
import { invalidToken } from "../auth/token-rejection";
import type { ConfigSource } from "../config/config-source";
import type { RelayEnv } from "../config/env";
import { RelayError } from "../errors/failure-kinds";
import type { AppGitHub } from "../github/app-github";
import { jsonRoute, type RouteContext, type RouteResult } from "../http/json-route";
import { parseJson, readBody } from "../http/read-body";
import type { Metrics } from "../metrics/metrics";
import type { Store } from "../store/store";
import type { GrantDecision } from "./match-grant";
import { OPERATION_NAMES } from "./operations";

type DenialKind = Extract<GrantDecision, { allowed: false }>["kind"];

const MAX_BODY_BYTES = 64 * 1024;

/** A broker call is authenticated (OIDC, replay guard), matched to its grant, sent to GitHub, and audited. */
export interface BrokerDeps {
  env: RelayEnv;
  log: Logger;
  store: Store;
  config: ConfigSource;
  github: AppGitHub;
  metrics: Metrics;
  oidc: OidcVerifier;
  audit: AuditSink;
}

export interface BrokerCall {
  body: unknown;
  identity: OidcIdentity;
  context: RouteContext;
  /** what the audit record will say; handlers add to it as they learn */
  facts: AuditFacts;
}

export const callerSchema = z.strictObject({
  plane: z.string().min(1).max(64),
  taskId: z.string().max(256).nullable().default(null),
  queueId: z.string().max(256).nullable().default(null),
});

/** Read leniently, before validation, so even a refused request is audited with who it said it was for. */
const callerHint = z.object({
  caller: z
    .object({
      plane: z.string().max(64).nullable().catch(null),
      taskId: z.string().max(256).nullable().catch(null),
      queueId: z.string().max(256).nullable().catch(null),
    })
    .catch({ plane: null, taskId: null, queueId: null }),
});

/**
 * The part every broker endpoint shares, in SPEC order: body size and JSON syntax, then the bearer
 * (OIDC for BROKER_AUDIENCE, its `jti` accepted once), then `handle`. Whatever the outcome, one
 * audit record and one metric sample.
 */
export function brokerRoute(deps: BrokerDeps, handle: (call: BrokerCall) => Promise<RouteResult>): RequestHandler {
  const facts = new WeakMap<RouteContext, AuditFacts>();
  return jsonRoute(
    deps.log,
    async (context) => {
      const known: AuditFacts = {};
      facts.set(context, known);
      const raw = await readBody(context.request, MAX_BODY_BYTES);
      known.body = raw;
      const body = parseJson(raw);
      const hint = callerHint.safeParse(body);
      if (hint.success) known.caller = hint.data.caller;
      const identity = await authenticate(deps, extractBearer(context.request));
      const {
        repository,
        repository_id = null,
        workflow_ref = null,
        run_id = null,
        run_attempt = null,
        jti = null,
      } = identity;
      known.identity = { repository, repository_id, workflow_ref, run_id, run_attempt, jti };
      return handle({ body, identity, context, facts: known });
    },
    (context, status, failure) => {
      const known = facts.get(context) ?? {};
      const operation =
        known.operation !== undefined && (OPERATION_NAMES as string[]).includes(known.operation)
          ? known.operation
          : "other";
      deps.metrics.brokerRequests.inc({ operation, outcome: failure?.kind ?? "ok" });
      const record = buildAuditRecord(
        {
          requestId: context.requestId,
          endpoint: context.request.baseUrl + context.request.path,
          status,
          failure,
          startedAt: context.startedAt,
          finishedAt: Date.now(),
        },
        known,
      );
      return deps.audit
        .record(record)
        .catch((error: unknown) => deps.log.error({ err: error, requestId: context.requestId }, "audit record failed"));
    },
  );
}

async function authenticate(deps: BrokerDeps, token: string): Promise<OidcIdentity> {
  const identity = await deps.oidc.verify(token, deps.env.brokerAudience);
  if (identity.jti === undefined) throw invalidToken("jti-missing");
  if (!(await claimJti(deps.store, identity.jti, identity.exp))) {
    throw new RelayError(
      "token-replayed",
      "This token was already used; request a fresh OIDC token for each request.",
      "jti-replayed",
    );
  }
  return identity;
}

/** Zod's complaint as paths and expectations only: never the values sent. */
export function invalidBody(error: z.ZodError, what = "request body"): RelayError {
  const problems = error.issues.slice(0, 5).map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`);
  return new RelayError("validation-failed", `invalid ${what}: ${problems.join("; ")}`);
}

/** Grants live in the relay config; until one is loaded nothing can be allowed. */
export async function brokerGrants(deps: BrokerDeps) {
  const config = await deps.config.get().catch(() => deps.config.current());
  if (config === null)
    throw new RelayError("store-unavailable", "the relay config is not loaded yet; retry later", "config-not-loaded");
  return config.broker;
}

export function denial(kind: DenialKind, repo: string, operation?: string): RelayError {
  const messages: Record<DenialKind, string> = {
    "caller-not-allowed": "no broker grant matches this caller's identity",
    "repo-not-allowed": `this caller has no broker grant for ${repo}`,
    "operation-not-allowed": `this caller may not run ${operation ?? "this operation"} on ${repo}`,
  };
  return new RelayError(kind, messages[kind]);
}
