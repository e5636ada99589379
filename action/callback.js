#!/usr/bin/env node
"use strict";
/**
 * The ci-relay callback step (action.yml runs it; plain Node 20, no dependencies). Reads the dispatch's
 * client_payload from the event file — or, for a nightly or periodic report (`event-type`), which no
 * dispatch started, takes the upstream commit from `delivery-id` and the relay from `callback-url` —
 * mints an OIDC token for the relay's audience through the Actions runtime, and posts one SPEC §4
 * callback; exit status and retries as relay-callback.js says.
 */
const { readFileSync } = require("node:fs");
const { StepError, parseTestResults, report, runStep } = require("./relay-callback.js");

/** SPEC §4: reports of runs no dispatch started (CRCR's `event_type`); they carry no relay token. */
const PERIODIC_EVENTS = ["nightly", "periodic"];

function input(name, fallback = "") {
  const value = process.env[`INPUT_${name}`];
  return value === undefined || value.trim() === "" ? fallback : value.trim();
}

function clientPayload() {
  const path = process.env.GITHUB_EVENT_PATH;
  if (!path) throw new StepError("GITHUB_EVENT_PATH is not set: run this inside a GitHub Actions job");
  const event = JSON.parse(readFileSync(path, "utf8"));
  const payload = event.client_payload;
  if (!payload || typeof payload !== "object" || !payload.relay) {
    throw new StepError("the triggering event carries no client_payload.relay: was this run dispatched by ci-relay?");
  }
  return payload;
}

async function oidcToken(audience, maxTimeMs) {
  const url = process.env.ACTIONS_ID_TOKEN_REQUEST_URL;
  const bearer = process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
  if (!url || !bearer) throw new StepError("no OIDC token available: give the job `permissions: id-token: write`");
  const target = new URL(url);
  target.searchParams.set("audience", audience);
  const response = await fetch(target, {
    headers: { authorization: `Bearer ${bearer}` },
    signal: AbortSignal.timeout(maxTimeMs),
  });
  if (!response.ok) throw new StepError(`the Actions runtime refused an OIDC token (HTTP ${response.status})`);
  const { value } = await response.json();
  if (typeof value !== "string" || value === "") throw new StepError("the Actions runtime returned no OIDC token");
  return value;
}

function workflowReport() {
  const env = process.env;
  const status = input("STATUS");
  if (status !== "in_progress" && status !== "completed")
    throw new StepError("status must be in_progress or completed");
  const scope = input("SCOPE", "job");
  const now = new Date().toISOString();
  const report = {
    schema_version: "1",
    status,
    conclusion: status === "completed" ? input("CONCLUSION").toLowerCase() || null : null,
    scope,
    name: env.GITHUB_WORKFLOW || null,
    url: env.GITHUB_RUN_ID
      ? `${env.GITHUB_SERVER_URL || "https://github.com"}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}`
      : null,
    run_id: env.GITHUB_RUN_ID,
    run_attempt: env.GITHUB_RUN_ATTEMPT || "1",
    job_name: scope === "run" ? null : input("JOB_NAME", env.GITHUB_JOB || ""),
    check_run_id: checkRunId(),
    started_at: status === "in_progress" ? now : null,
    completed_at: status === "completed" ? now : null,
    test_results: parseTestResults(input("TEST_RESULTS")),
    artifact_url: input("ARTIFACT_URL") || undefined,
    summary: input("SUMMARY") || undefined,
  };
  if (status === "completed" && !report.conclusion)
    throw new StepError("conclusion is required when status is completed");
  return report;
}

/**
 * `job.check_run_id` (action.yml passes it): PyTorch's HUD keys each row on it. Runners too old to
 * expose it get CRCR's stand-in, `<run_id>-<run_attempt>`, stable across one job's reports.
 */
function checkRunId() {
  const id = (process.env.CHECK_RUN_ID || "").trim();
  if (id !== "") return id;
  return `${process.env.GITHUB_RUN_ID}-${process.env.GITHUB_RUN_ATTEMPT || "1"}`;
}

/** Where and what to report for a dispatched run; null when the relay keeps no callbacks for it. */
function dispatchedReport() {
  const payload = clientPayload();
  const relay = payload.relay;
  const url = input("CALLBACK_URL", relay.callback_url || "");
  if (!url) throw new StepError("no callback URL: set callback-url or dispatch through ci-relay");
  if (!relay.callback_token) {
    // Minted only when the relay keeps callbacks (L2+ configured): nothing to report to.
    console.log(
      "::notice::client_payload.relay.callback_token is empty: the relay keeps no callbacks for this downstream",
    );
    return null;
  }
  const body = {
    relay_token: relay.callback_token,
    event_type: input("EVENT_TYPE", payload.event_type),
    delivery_id: input("DELIVERY_ID", payload.delivery_id),
    workflow: workflowReport(),
  };
  return { url, body };
}

/** Where and what to report for a nightly or periodic run: the tested upstream commit, once done. */
function periodicReport(eventType) {
  const url = input("CALLBACK_URL");
  if (!url) throw new StepError(`callback-url is required for ${eventType} reports: no dispatch carries it`);
  const sha = input("DELIVERY_ID");
  if (!/^(?:[0-9a-f]{40}|[0-9a-f]{64})$/i.test(sha)) {
    throw new StepError(`delivery-id must be the full SHA of the upstream commit the ${eventType} run tested`);
  }
  if (input("STATUS") !== "completed")
    throw new StepError(`${eventType} reports are sent once the job is done: status must be completed`);
  return { url, body: { event_type: eventType, delivery_id: sha, workflow: workflowReport() } };
}

async function main() {
  const eventType = input("EVENT_TYPE");
  const target = PERIODIC_EVENTS.includes(eventType) ? periodicReport(eventType) : dispatchedReport();
  if (target === null) return 0;
  const maxTimeMs = Math.max(1, Number(input("MAX_TIME", "30")) || 30) * 1000;
  const token = await oidcToken(input("AUDIENCE", "ci-relay-callback"), maxTimeMs);
  return report(target.url, token, target.body, maxTimeMs);
}

runStep(main);
