/**
 * callback/ owns downstream job reports: the SPEC §4 callback route (authenticate, body, rate window),
 * recording a report against the job's stored state (decide-transition.ts, pure), what an accepted
 * transition causes (transition-effects.ts), the job timeout sweep, and the conclusions GitHub gives
 * itself (workflow_run, all declared jobs done). Nightly and periodic reports are in nightly/.
 */
import type { RequestHandler } from "express";
import type { Logger } from "pino";
import { extractBearer } from "../auth/bearer";
import { buildAuditRecord, type AuditFacts } from "../audit/build-audit-record";
import { concludeDeclaredJobs, type ConcludeDeclaredJobsDeps } from "./conclude-declared-jobs";
import { sameRepo } from "../config/types";
import type { AuditSink } from "../audit/audit-record";
import type { ConfigSource } from "../config/config-source";
import type { RelayEnv } from "../config/env";
import { RelayError } from "../errors/failure-kinds";
import { jsonRoute, type RouteContext } from "../http/json-route";
import { parseJson, readBody } from "../http/read-body";
import type { Metrics } from "../metrics/metrics";
import { handleNightlyReport, type NightlyReportDeps } from "./nightly/handle-nightly-report";
import { periodicEventOf } from "./nightly/nightly-body";
import { readDispatch, type DispatchRecord } from "../records/dispatches";
import { authenticateCallback, type CallbackCaller } from "./authenticate-callback";
import type { WorkflowReport } from "../jobs/workflow-report";
import { callbackBodySchema, invalidBody } from "./callback-body";
import { callbackCount } from "./count-callback";
import type { JobEvent } from "./decide-transition";
import { recordJobReport } from "./record-job-report";
import { transitionEffects } from "./transition-effects";

const BODY_LIMIT_BYTES = 64 * 1024;

/** The callback authenticates, records the report and its effects, and audits and counts each request. */
export interface CallbackDeps extends NightlyReportDeps, ConcludeDeclaredJobsDeps {
  env: RelayEnv;
  log: Logger;
  config: Pick<ConfigSource, "get">;
  metrics: Pick<Metrics, "callbacks" | "callbackLatency">;
  audit: AuditSink;
}

/** What one request taught the route, for its audit record and metrics. */
interface CallbackTrace {
  audit: AuditFacts;
  /** accepted, duplicate or ignored; failures are counted by their kind */
  outcome: string;
}

/**
 * SPEC §4 `POST /relay/v1/callback`, in the contract's order: body size and JSON syntax, then
 * authentication, then the body schema, then the dispatch, then the rate limit — counted by the one
 * atomic write that changes state and enqueues its effects, which it refuses over the limit
 * (`recordJobReport`). Nightly and periodic reports branch off once the body is read
 * (`handleNightlyReport`), in the same order.
 */
export function callbackRoute(relay: CallbackDeps): RequestHandler {
  const traces = new WeakMap<RouteContext, CallbackTrace>();
  return jsonRoute(
    relay.log,
    async (context) => {
      const trace: CallbackTrace = { audit: { operation: "callback" }, outcome: "accepted" };
      traces.set(context, trace);
      const { audit } = trace;

      const body = await readBody(context.request, BODY_LIMIT_BYTES);
      audit.body = body;
      const json = parseJson(body);
      const bearer = extractBearer(context.request);
      const config = await relay.config.get();
      if (config === null)
        throw new RelayError(
          "store-unavailable",
          "The relay config is not loaded yet; retry later.",
          "config-not-loaded",
        );
      // Nightly and periodic reports follow no dispatch and carry no relay token: their own path.
      if (periodicEventOf(json) !== null) {
        const report = await handleNightlyReport(relay, {
          requestId: context.requestId,
          json,
          bearer,
          config,
          audit,
          onVerified: (identity) => noteCaller(audit, { identity }),
        });
        trace.outcome = report.outcome;
        return { body: report.body };
      }

      // Read once per request: authentication may need the record (queue callbacks), and so does what follows.
      const dispatchReads = new Map<string, Promise<DispatchRecord | null>>();
      const dispatchOf = (requestId: string) => {
        if (!dispatchReads.has(requestId)) dispatchReads.set(requestId, readDispatch(relay.store, requestId));
        return dispatchReads.get(requestId) as Promise<DispatchRecord | null>;
      };
      const caller = await authenticateCallback({
        bearer,
        relayToken: relayTokenOf(json),
        config,
        oidc: relay.oidc,
        callbackAudience: relay.env.callbackAudience,
        relayTokenSecrets: relay.env.relayTokenSecrets,
        dispatchTransport: async (requestId) => (await dispatchOf(requestId))?.transport ?? null,
        onVerified: (verified) => {
          noteCaller(audit, verified);
          // Read ahead while the OIDC token is verified: the record is needed next, and reading it
          // early decides nothing (a refused caller's read is simply dropped).
          if (verified.claims) void prefetch(dispatchOf(verified.claims.jti));
        },
      });

      const parsed = callbackBodySchema.safeParse(json);
      if (!parsed.success) throw invalidBody(parsed.error);
      const { workflow } = parsed.data;
      audit.operation = `callback.${workflow.scope}.${workflow.status}`;
      audit.identity = {
        ...audit.identity,
        run_id: audit.identity?.run_id ?? workflow.run_id,
        run_attempt: audit.identity?.run_attempt ?? workflow.run_attempt,
      };

      const dispatch = await dispatchOf(caller.claims.jti);
      if (dispatch === null || !sameRepo(dispatch.downstream, caller.claims.sub)) {
        throw new RelayError("no-dispatch", "The relay made no dispatch this token belongs to.", "no-dispatch");
      }
      if (dispatch.level === "L1") {
        trace.outcome = "ignored";
        return { body: { ok: true, requestId: context.requestId, status: "ignored" } };
      }
      const jobKey = {
        requestId: dispatch.requestId,
        runId: workflow.run_id,
        runAttempt: workflow.run_attempt,
        scope: workflow.scope,
        jobName: workflow.job_name ?? null,
      };
      const now = Date.now();
      const decision = await recordJobReport(
        relay.store,
        dispatch,
        {
          key: jobKey,
          event: jobEvent(workflow),
          detailsUrl: workflow.url ?? null,
          workflowName: workflow.name ?? null,
          checkRunId: workflow.check_run_id ?? null,
          summary: workflow.summary ?? null,
          at: now,
        },
        (transition) => transitionEffects(relay, config, transition, workflow, now),
        callbackCount(caller.downstream.repo, relay.env.callbackRateLimitPerMinute, now),
      );
      if (decision.outcome === "refused") {
        throw new RelayError(
          "invalid-transition",
          `The job is already ${decision.record.state}; this report cannot change it.`,
          decision.reason,
        );
      }
      // Also on a repeat: the conclusion may not have been stored when this job was first accepted.
      const concluded = await concludeDeclaredJobs(relay, config, dispatch, decision.record, now);
      if (decision.outcome === "accepted" || concluded) relay.runner.kick();
      trace.outcome = decision.outcome;
      return {
        body: {
          ok: true,
          requestId: context.requestId,
          dispatchId: dispatch.requestId,
          state: decision.record.state,
          duplicate: decision.outcome === "duplicate",
        },
      };
    },
    (context, status, failure) => {
      const trace = traces.get(context);
      const finishedAt = Date.now();
      relay.metrics.callbacks.inc({ outcome: failure?.kind ?? trace?.outcome ?? "accepted" });
      relay.metrics.callbackLatency.observe((finishedAt - context.startedAt) / 1000);
      const entry = buildAuditRecord(
        {
          requestId: context.requestId,
          endpoint: context.request.originalUrl.split("?")[0],
          status,
          failure,
          startedAt: context.startedAt,
          finishedAt,
        },
        trace?.audit ?? {},
      );
      return relay.audit
        .record(entry)
        .catch((error: unknown) => relay.log.error({ err: error, requestId: context.requestId }, "audit failed"));
    },
  );
}

/** A read started ahead of its use: if the request is refused first, its failure is nobody's to handle. */
function prefetch<T>(read: Promise<T>): Promise<T> {
  read.catch(() => undefined);
  return read;
}

function relayTokenOf(json: unknown): string | undefined {
  if (json === null || typeof json !== "object" || Array.isArray(json)) return undefined;
  const token = (json as { relay_token?: unknown }).relay_token;
  return typeof token === "string" ? token : undefined;
}

/** Identity for the audit record: the OIDC claims when verified, else the relay token's own. */
function noteCaller(audit: AuditFacts, { claims, identity }: Partial<CallbackCaller>): void {
  if (claims) {
    audit.repo = claims.sub;
    audit.resource = `dispatch:${claims.jti}`;
    audit.identity = { repository: claims.sub, jti: claims.jti };
  }
  if (identity) {
    audit.identity = {
      repository: identity.repository,
      repository_id: identity.repository_id ?? null,
      workflow_ref: identity.workflow_ref ?? null,
      run_id: identity.run_id ?? null,
      run_attempt: identity.run_attempt ?? null,
      jti: identity.jti ?? null,
    };
  }
}

function jobEvent(workflow: WorkflowReport): JobEvent {
  return workflow.status === "completed"
    ? { status: "completed", conclusion: workflow.conclusion }
    : { status: "in_progress" };
}
