#!/usr/bin/env node
"use strict";
/**
 * Stands in for `buildkite-agent oidc request-token --audience <aud>`: fetches a token for that audience
 * from the local issuer's token endpoint (FAKE_AGENT_TOKEN_URL, FAKE_AGENT_TOKEN_BEARER; see
 * oidc-issuer.ts `actionsRuntime`) and prints it as the agent does. Any other use fails, as a wrong
 * invocation of the real agent would.
 */
const [command, subcommand, flag, audience] = process.argv.slice(2);
if (command !== "oidc" || subcommand !== "request-token" || flag !== "--audience" || !audience) {
  console.error("fake buildkite-agent: unexpected arguments");
  process.exit(2);
}
const url = new URL(process.env.FAKE_AGENT_TOKEN_URL);
url.searchParams.set("audience", audience);
fetch(url, { headers: { authorization: `Bearer ${process.env.FAKE_AGENT_TOKEN_BEARER}` } })
  .then((response) => (response.ok ? response.json() : Promise.reject(new Error(`HTTP ${response.status}`))))
  .then(({ value }) => process.stdout.write(`${value}\n`))
  .catch((error) => {
    console.error(`fake buildkite-agent: ${error.message}`);
    process.exit(1);
  });
