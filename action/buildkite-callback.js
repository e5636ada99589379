#!/usr/bin/env node
"use strict";
/**
 * ci-relay callback from a Buildkite step (plain Node 20, no dependencies):
 *
 *   node buildkite-callback.js in_progress
 *   node buildkite-callback.js completed success
 *
 * The relay dispatched to the downstream's GitHub repository; the workflow there started this Buildkite
 * build and passed on what the relay sent (SPEC §4: a Buildkite job reporting for a dispatch still needs
 * its relay token) as build environment: CI_RELAY_CALLBACK_URL (client_payload.relay.callback_url),
 * CI_RELAY_TOKEN (client_payload.relay.callback_token), CI_RELAY_EVENT_TYPE and CI_RELAY_DELIVERY_ID.
 * A nightly or periodic build (SPEC §4) sets CI_RELAY_EVENT_TYPE=nightly|periodic and
 * CI_RELAY_DELIVERY_ID=<the upstream commit SHA it tested> and carries no relay token.
 * The bearer is the job's Buildkite OIDC token (`buildkite-agent oidc request-token`), which the relay
 * maps to the downstream through its `ci_providers` repo_map. Optional: CI_RELAY_AUDIENCE (the
 * provider's audience, default ci-relay-callback), CI_RELAY_JOB_NAME (default the step key, else its
 * label), CI_RELAY_SCOPE (job | run), CI_RELAY_SUMMARY, CI_RELAY_TEST_RESULTS (JSON),
 * CI_RELAY_ARTIFACT_URL, CI_RELAY_MAX_TIME (seconds per attempt, default 30), BUILDKITE_AGENT (the
 * agent binary, default buildkite-agent). Exit status and retries as relay-callback.js says.
 */
const { execFile } = require("node:child_process");
const { StepError, parseTestResults, report, runStep } = require("./relay-callback.js");

function setting(name, fallback = "") {
  const value = process.env[name];
  return value === undefined || value.trim() === "" ? fallback : value.trim();
}

/** The job's OIDC token; the agent prints nothing but the token on stdout. */
function buildkiteToken(audience, maxTimeMs) {
  const agent = setting("BUILDKITE_AGENT", "buildkite-agent");
  return new Promise((resolve, reject) => {
    execFile(agent, ["oidc", "request-token", "--audience", audience], { timeout: maxTimeMs }, (error, stdout) => {
      const token = String(stdout).trim();
      if (error || token === "")
        reject(
          new StepError("buildkite-agent could not get an OIDC token (is this a Buildkite job on an agent with OIDC?)"),
        );
      else resolve(token);
    });
  });
}

function workflowReport(status, conclusion) {
  if (status !== "in_progress" && status !== "completed")
    throw new StepError("usage: buildkite-callback.js <in_progress|completed> [conclusion]");
  if (status === "completed" && !conclusion) throw new StepError("a conclusion is required when status is completed");
  const env = process.env;
  const buildNumber = setting("BUILDKITE_BUILD_NUMBER");
  if (!/^\d+$/.test(buildNumber))
    throw new StepError("BUILDKITE_BUILD_NUMBER is not set: run this inside a Buildkite job");
  const attempt = String(Number(setting("BUILDKITE_RETRY_COUNT", "0")) + 1);
  const scope = setting("CI_RELAY_SCOPE", "job");
  const now = new Date().toISOString();
  return {
    schema_version: "1",
    status,
    conclusion: status === "completed" ? conclusion.toLowerCase() : null,
    scope,
    name: env.BUILDKITE_PIPELINE_SLUG || null,
    url: env.BUILDKITE_BUILD_URL
      ? `${env.BUILDKITE_BUILD_URL}${env.BUILDKITE_JOB_ID ? `#${env.BUILDKITE_JOB_ID}` : ""}`
      : null,
    run_id: buildNumber,
    run_attempt: attempt,
    job_name:
      scope === "run" ? null : setting("CI_RELAY_JOB_NAME", setting("BUILDKITE_STEP_KEY", setting("BUILDKITE_LABEL"))),
    // PyTorch's HUD keys rows on it; Buildkite has no check run, so CRCR's stand-in <run_id>-<run_attempt>.
    check_run_id: `${buildNumber}-${attempt}`,
    started_at: status === "in_progress" ? now : null,
    completed_at: status === "completed" ? now : null,
    test_results: parseTestResults(setting("CI_RELAY_TEST_RESULTS")),
    artifact_url: setting("CI_RELAY_ARTIFACT_URL") || undefined,
    summary: setting("CI_RELAY_SUMMARY") || undefined,
  };
}

async function main() {
  const [status, conclusion] = process.argv.slice(2);
  const url = setting("CI_RELAY_CALLBACK_URL");
  if (!url)
    throw new StepError("CI_RELAY_CALLBACK_URL is not set: pass client_payload.relay.callback_url to the build");
  const eventType = setting("CI_RELAY_EVENT_TYPE");
  const scheduled = eventType === "nightly" || eventType === "periodic";
  const relayToken = process.env.CI_RELAY_TOKEN;
  if (relayToken === undefined && !scheduled)
    throw new StepError("CI_RELAY_TOKEN is not set: pass client_payload.relay.callback_token to the build");
  if (relayToken !== undefined && relayToken.trim() === "" && !scheduled) {
    // Minted only when the relay keeps callbacks (L2+ configured): nothing to report to.
    console.log("CI_RELAY_TOKEN is empty: the relay keeps no callbacks for this downstream");
    return 0;
  }
  const maxTimeMs = Math.max(1, Number(setting("CI_RELAY_MAX_TIME", "30")) || 30) * 1000;
  const body = {
    relay_token: scheduled ? undefined : relayToken.trim(),
    event_type: eventType || undefined,
    delivery_id: setting("CI_RELAY_DELIVERY_ID") || undefined,
    workflow: workflowReport(status, conclusion),
  };
  const token = await buildkiteToken(setting("CI_RELAY_AUDIENCE", "ci-relay-callback"), maxTimeMs);
  return report(url, token, body, maxTimeMs);
}

runStep(main);
