/**
 * callback/nightly/ owns SPEC §4 nightly and periodic reports, which reach the callback endpoint with
 * no dispatch before them: their body, the upstream-commit check (a cached GitHub read), and accepting
 * each once with its HUD task. The stored report is jobs/nightly-report.ts.
 */
import type { AuditFacts } from "../../audit/build-audit-record";
import type { OidcIdentity } from "../../auth/oidc-verifier";
import { invalidBody } from "../callback-body";
import { authenticateReport } from "../authenticate-report";
import { countCallback } from "../count-callback";
import type { RelayConfig } from "../../config/types";
import type { RelayEnv } from "../../config/env";
import type { OidcVerifier } from "../../auth/oidc-verifier";
import { RelayError } from "../../errors/failure-kinds";
import { nightlyHudTaskOps } from "../../hud/hud-task";
import type { Outbox } from "../../outbox/outbox";
import type { OutboxRunner } from "../../outbox/outbox-runner";
import { decideNightlyReport, type NightlyDecision } from "./decide-nightly-report";
import { findUpstreamCommit, type FindUpstreamCommitDeps } from "./find-upstream-commit";
import { nightlyBodySchema } from "./nightly-body";
import {
  parseNightlyReport,
  readRawNightlyReport,
  recordNightlyReportOps,
  writeIfNightlyReportIs,
  type NightlyReport,
  type NightlyReportKey,
} from "../../records/nightly-reports";

export interface NightlyReportRequest {
  requestId: string;
  json: unknown;
  bearer: string;
  config: RelayConfig;
  /** filled in as the request is understood, for its audit record */
  audit: AuditFacts;
  onVerified: (identity: OidcIdentity) => void;
}

export interface NightlyReportAnswer {
  outcome: "accepted" | "duplicate" | "ignored";
  body: Record<string, unknown>;
}

/** A report is authenticated (OIDC), its commit checked on GitHub, and it is stored with its HUD task. */
export interface NightlyReportDeps extends FindUpstreamCommitDeps {
  outbox: Outbox;
  env: RelayEnv;
  oidc: OidcVerifier;
  runner: Pick<OutboxRunner, "kick">;
}

/**
 * SPEC §4 nightly and periodic reports, after the route has read the body (size, JSON syntax): the
 * OIDC identity, then the body schema, then the level (L1 is ignored), the rate limit, and — only for
 * a report not seen before — whether the SHA is an upstream commit (GitHub, cached). The report, its
 * indexes and its HUD record are one atomic write made only if no copy of it is stored yet, so
 * reports sent twice at once are recorded once. No check run changes.
 */
export async function handleNightlyReport(
  relay: NightlyReportDeps,
  request: NightlyReportRequest,
): Promise<NightlyReportAnswer> {
  const { audit } = request;
  const { downstream, identity } = await authenticateReport({
    bearer: request.bearer,
    config: request.config,
    oidc: relay.oidc,
    callbackAudience: relay.env.callbackAudience,
    onVerified: request.onVerified,
  });
  audit.repo = identity.repository;

  const parsed = nightlyBodySchema.safeParse(request.json);
  if (!parsed.success) throw invalidBody(parsed.error);
  const { workflow, delivery_id: sha, event_type: event } = parsed.data;
  audit.operation = `callback.${event}.${workflow.scope}.${workflow.status}`;
  audit.resource = `commit:${sha}`;
  audit.identity = {
    ...audit.identity,
    run_id: audit.identity?.run_id ?? workflow.run_id,
    run_attempt: audit.identity?.run_attempt ?? workflow.run_attempt,
  };
  if (workflow.status !== "completed") {
    throw new RelayError(
      "validation-failed",
      "A nightly or periodic report is sent once its run is done: workflow.status must be completed.",
      "report-not-completed",
    );
  }
  if (downstream.level === "L1")
    return { outcome: "ignored", body: { ok: true, requestId: request.requestId, status: "ignored" } };

  const key: NightlyReportKey = {
    downstream: downstream.repo,
    sha,
    runId: workflow.run_id,
    runAttempt: workflow.run_attempt,
    scope: workflow.scope,
    jobName: workflow.scope === "run" ? null : (workflow.job_name ?? null),
  };
  const stored = readRawNightlyReport(relay.store, key);
  stored.catch(() => undefined); // read ahead of the rate count; a refusal leaves it unused
  const now = Date.now();
  await countCallback(relay.store, downstream.repo, relay.env.callbackRateLimitPerMinute, now);

  let decision = decideNightlyReport(parseNightlyReport(await stored), workflow.conclusion);
  if (decision.outcome === "accepted") {
    const upstream = await findUpstreamCommit(relay, request.config.upstreams, sha);
    const report: NightlyReport = {
      ...key,
      requestId: request.requestId,
      event,
      level: downstream.level,
      upstream,
      workflowName: workflow.name ?? null,
      conclusion: workflow.conclusion,
      url: workflow.url ?? null,
      checkRunId: workflow.check_run_id ?? null,
      at: now,
    };
    const ops = [
      ...recordNightlyReportOps(report),
      ...nightlyHudTaskOps(relay.outbox, relay.env, report, workflow, now),
    ];
    if (await writeIfNightlyReportIs(relay.store, key, null, ops)) {
      relay.runner.kick();
      return { outcome: "accepted", body: answer(request.requestId, false) };
    }
    // A copy sent at the same time was stored first: this one is judged against it.
    decision = settled(
      decideNightlyReport(parseNightlyReport(await readRawNightlyReport(relay.store, key)), workflow.conclusion),
    );
  }
  if (decision.outcome === "refused") {
    throw new RelayError(
      "invalid-transition",
      `This job was already reported ${decision.record.conclusion}; this report cannot change it.`,
      decision.reason,
    );
  }
  return { outcome: "duplicate", body: answer(request.requestId, true) };
}

function answer(requestId: string, duplicate: boolean): Record<string, unknown> {
  return { ok: true, requestId, dispatchId: null, state: "COMPLETED", duplicate };
}

/** Reports are written once and never deleted while read: a lost conditional write means one is there. */
function settled(decision: NightlyDecision): Exclude<NightlyDecision, { outcome: "accepted" }> {
  if (decision.outcome === "accepted") throw new Error("nightly report write lost to a copy that is not stored");
  return decision;
}
