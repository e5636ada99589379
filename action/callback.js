#!/usr/bin/env node
"use strict";
/**
 * The ci-relay callback step (action.yml runs it; plain Node 20, no dependencies). Reads the dispatch's
 * client_payload from the event file — or, for a nightly or periodic report (`event-type`), which no
 * dispatch started, takes the upstream commit from `delivery-id` and the relay from `callback-url` —
 * mints an OIDC token for the relay's audience through the Actions runtime, and posts one SPEC §4 callback. Exit status: 1 when the relay refuses the report (4xx: the
 * workflow must be fixed) or it cannot be built; 0 when the relay accepted it, and also when the relay
 * stayed unavailable after retries — an outage of the relay must not fail downstream CI.
 * Tokens are never printed.
 */
const { readFileSync } = require("node:fs");

const ATTEMPTS = 4;
/** SPEC §4: reports of runs no dispatch started (CRCR's `event_type`); they carry no relay token. */
const PERIODIC_EVENTS = ["nightly", "periodic"];

class StepError extends Error {}

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
  const response = await fetch(target, { headers: { authorization: `Bearer ${bearer}` }, signal: AbortSignal.timeout(maxTimeMs) });
  if (!response.ok) throw new StepError(`the Actions runtime refused an OIDC token (HTTP ${response.status})`);
  const { value } = await response.json();
  if (typeof value !== "string" || value === "") throw new StepError("the Actions runtime returned no OIDC token");
  return value;
}

function testResults() {
  const text = input("TEST_RESULTS");
  if (text === "") return undefined;
  try {
    const parsed = JSON.parse(text);
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) return parsed;
  } catch {
    // reported below
  }
  console.log("::warning::test-results is not a JSON object; sent without it");
  return undefined;
}

function workflowReport() {
  const env = process.env;
  const status = input("STATUS");
  if (status !== "in_progress" && status !== "completed") throw new StepError("status must be in_progress or completed");
  const scope = input("SCOPE", "job");
  const now = new Date().toISOString();
  const report = {
    schema_version: "1",
    status,
    conclusion: status === "completed" ? input("CONCLUSION").toLowerCase() || null : null,
    scope,
    name: env.GITHUB_WORKFLOW || null,
    url: env.GITHUB_RUN_ID ? `${env.GITHUB_SERVER_URL || "https://github.com"}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}` : null,
    run_id: env.GITHUB_RUN_ID,
    run_attempt: env.GITHUB_RUN_ATTEMPT || "1",
    job_name: scope === "run" ? null : input("JOB_NAME", env.GITHUB_JOB || ""),
    check_run_id: checkRunId(),
    started_at: status === "in_progress" ? now : null,
    completed_at: status === "completed" ? now : null,
    test_results: testResults(),
    artifact_url: input("ARTIFACT_URL") || undefined,
    summary: input("SUMMARY") || undefined,
  };
  if (status === "completed" && !report.conclusion) throw new StepError("conclusion is required when status is completed");
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

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Retries what may pass later (network, 429, 5xx); returns the last answer, or null if none came. */
async function post(url, token, body, maxTimeMs) {
  const baseDelayMs = Number(process.env.CI_RELAY_CALLBACK_RETRY_MS || 1000);
  let last = null;
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(maxTimeMs),
      });
      const text = await response.text();
      last = { status: response.status, text };
      if (response.status !== 429 && response.status < 500) return last;
      console.log(`relay answered ${response.status} (attempt ${attempt}/${ATTEMPTS})`);
    } catch (error) {
      console.log(`relay unreachable: ${error.name} (attempt ${attempt}/${ATTEMPTS})`);
    }
    if (attempt < ATTEMPTS) await sleep(baseDelayMs * 2 ** (attempt - 1));
  }
  return last;
}

/** Where and what to report for a dispatched run; null when the relay keeps no callbacks for it. */
function dispatchedReport() {
  const payload = clientPayload();
  const relay = payload.relay;
  const url = input("CALLBACK_URL", relay.callback_url || "");
  if (!url) throw new StepError("no callback URL: set callback-url or dispatch through ci-relay");
  if (!relay.callback_token) {
    // Minted only when the relay keeps callbacks (L2+ configured): nothing to report to.
    console.log("::notice::client_payload.relay.callback_token is empty: the relay keeps no callbacks for this downstream");
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
  if (input("STATUS") !== "completed") throw new StepError(`${eventType} reports are sent once the job is done: status must be completed`);
  return { url, body: { event_type: eventType, delivery_id: sha, workflow: workflowReport() } };
}

async function main() {
  const eventType = input("EVENT_TYPE");
  const report = PERIODIC_EVENTS.includes(eventType) ? periodicReport(eventType) : dispatchedReport();
  if (report === null) return 0;
  const maxTimeMs = Math.max(1, Number(input("MAX_TIME", "30")) || 30) * 1000;
  const token = await oidcToken(input("AUDIENCE", "ci-relay-callback"), maxTimeMs);
  const answer = await post(report.url, token, report.body, maxTimeMs);
  if (answer === null) {
    console.log("::warning::ci-relay was unreachable; the status was not reported");
    return 0;
  }
  console.log(answer.text);
  if (answer.status >= 200 && answer.status < 300) return 0;
  if (answer.status === 429 || answer.status >= 500) {
    console.log(`::warning::ci-relay answered ${answer.status} after retries; the status was not reported`);
    return 0;
  }
  console.log(`::error::ci-relay refused the callback (HTTP ${answer.status})`);
  return 1;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.log(`::error::${error instanceof StepError ? error.message : `callback failed: ${error && error.name}`}`);
    process.exit(1);
  },
);
