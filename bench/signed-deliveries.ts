import { randomUUID } from "node:crypto";
import { pullRequestEvent, randomSha, sign, TEST_WEBHOOK_SECRET } from "../test/support/webhooks";

/** GitHub's PR payloads for a busy repository run to about this size; the examples are smaller. */
export const PAYLOAD_BYTES = 20 * 1024;

export interface SignedDelivery {
  body: string;
  signature: string;
}

/**
 * `count` different PR synchronize payloads of ~20 KB (padded in the PR body), each signed with the
 * test secret, spread round-robin over `repos` (one installation each, ids from `firstInstallation`).
 * Each is a new head of its own PR, or, with `pullRequests`, of one of that many PRs in turn (so later
 * pushes supersede earlier ones). Signed before any timing starts, so the load generator only sends.
 */
export function signedDeliveries(
  count: number,
  repos: string[],
  firstInstallation: number,
  pullRequests = count,
): SignedDelivery[] {
  return Array.from({ length: count }, (_, i) => {
    const index = i % repos.length;
    const payload = pullRequestEvent("synchronize", {
      repo: repos[index],
      installationId: firstInstallation + index,
      number: 1 + (i % pullRequests),
      headSha: randomSha(),
      authorAssociation: "MEMBER",
      body: "",
    });
    const bare = JSON.stringify(payload).length;
    payload.pull_request.body = "x".repeat(Math.max(0, PAYLOAD_BYTES - bare));
    const body = JSON.stringify(payload);
    return { body, signature: sign(body, TEST_WEBHOOK_SECRET) };
  });
}

/** The headers GitHub sends with a delivery; each call a new delivery id. */
export function deliveryHeaders(delivery: SignedDelivery): Record<string, string> {
  return {
    "content-type": "application/json",
    "user-agent": "GitHub-Hookshot/ci-relay-bench",
    "x-github-event": "pull_request",
    "x-github-delivery": randomUUID(),
    "x-hub-signature-256": delivery.signature,
  };
}
