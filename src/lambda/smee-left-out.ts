/**
 * Stands in for `smee-client` in the Lambda bundles (scripts/build-lambda.mjs): Probot's server and
 * setup flow import it for a webhook proxy, which a Lambda never starts (API Gateway receives the
 * deliveries). With undici behind it, it was a fifth of each bundle. Reaching it would mean that
 * changed: it fails loudly.
 */
export default class SmeeClientLeftOut {
  constructor() {
    throw new Error("smee-client is left out of the Lambda bundles: a Lambda never starts a webhook proxy");
  }
}
