/**
 * Stands in for `@sentry/node` in the Lambda bundles (scripts/build-lambda.mjs): Probot's log stream
 * (@probot/pino) imports Sentry, and with it OpenTelemetry, for error reporting it does only when
 * given a Sentry DSN — which the relay's logger (`relayLog`) never passes. Left out, the bundles
 * lose about a megabyte and their cold import the time to load it. Reaching any of these would mean
 * that changed: it fails loudly rather than dropping error reports silently.
 */
function leftOut(): never {
  throw new Error("@sentry/node is left out of the Lambda bundles: the relay's logger never enables Sentry");
}

export const init = leftOut;
export const withScope = leftOut;
export const captureException = leftOut;
