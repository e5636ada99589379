"use strict";
/**
 * What the ci-relay callback scripts share (callback.js for GitHub Actions, buildkite-callback.js for
 * Buildkite; plain Node 20, no dependencies): posting one SPEC §4 callback with retries, and turning
 * the relay's answer into the step's exit status — 1 when the relay refuses the report (4xx: the job
 * must be fixed) or it cannot be built; 0 when the relay accepted it, and also when the relay stayed
 * unavailable after retries: an outage of the relay must not fail downstream CI. Tokens are never printed.
 */

const ATTEMPTS = 4;

/** A fault of the step's set-up, printed as its message. */
class StepError extends Error {}

/** `{"passed": 10, ...}` as an object, or undefined (with a warning) when it is not one. */
function parseTestResults(text) {
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

/** Posts the callback and says what the step's exit status is. */
async function report(url, token, body, maxTimeMs) {
  const answer = await post(url, token, body, maxTimeMs);
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

/** Runs a script's main and exits with its status; unexpected errors name only their type. */
function runStep(main) {
  main().then(
    (code) => process.exit(code),
    (error) => {
      console.log(`::error::${error instanceof StepError ? error.message : `callback failed: ${error && error.name}`}`);
      process.exit(1);
    },
  );
}

module.exports = { StepError, parseTestResults, report, runStep };
