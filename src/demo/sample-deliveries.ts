import { createHash, createHmac, randomUUID } from "node:crypto";
import { DEMO_INSTALLATION_ID, DEMO_UPSTREAM } from "./demo-world";

/**
 * The upstream activity the demo plays: two pull requests and a push to main, each sent to the relay
 * as GitHub sends a webhook (signed body, event and delivery headers).
 */

export interface SampleDelivery {
  event: "pull_request" | "push";
  /** what the demo prints when it sends it */
  title: string;
  payload: Record<string, unknown>;
}

const [owner, name] = DEMO_UPSTREAM.split("/");
const repository = {
  id: 1,
  name,
  full_name: DEMO_UPSTREAM,
  owner: { login: owner, type: "Organization" },
  default_branch: "main",
  html_url: `https://github.com/${DEMO_UPSTREAM}`,
  clone_url: `https://github.com/${DEMO_UPSTREAM}.git`,
  private: false,
};
const installation = { id: DEMO_INSTALLATION_ID };
const sha = (seed: string) => createHash("sha1").update(seed).digest("hex");

function pullRequest(number: number, title: string, labels: string[]): SampleDelivery {
  const user = { login: `contributor-${number}`, type: "User" };
  return {
    event: "pull_request",
    title: `PR #${number} "${title}"${labels.length ? ` labelled ${labels.join(", ")}` : ""}`,
    payload: {
      action: "opened",
      number,
      pull_request: {
        number,
        title,
        state: "open",
        merged: false,
        html_url: `https://github.com/${DEMO_UPSTREAM}/pull/${number}`,
        user,
        author_association: "MEMBER",
        labels: labels.map((label) => ({ name: label })),
        head: { sha: sha(`pr-${number}`), ref: `feature-${number}`, repo: repository },
        base: { sha: sha("main"), ref: "main", repo: repository },
      },
      repository,
      installation,
      sender: user,
    },
  };
}

export const SAMPLE_DELIVERIES: readonly SampleDelivery[] = [
  pullRequest(1, "Add fused attention kernel", ["ciflow/relay/gpu"]),
  pullRequest(2, "Refactor NPU allocator", []),
  {
    event: "push",
    title: "push to main",
    payload: {
      ref: "refs/heads/main",
      before: sha("main"),
      after: sha("main-2"),
      deleted: false,
      created: false,
      forced: false,
      commits: [],
      head_commit: { id: sha("main-2"), message: "Merge PR #0" },
      repository,
      installation,
      pusher: { name: owner },
      sender: { login: owner, type: "User" },
    },
  },
];

/** Posts one delivery to the relay's webhook endpoint, signed with the webhook secret. */
export async function sendDelivery(webhookUrl: string, secret: string, delivery: SampleDelivery): Promise<number> {
  const body = JSON.stringify(delivery.payload);
  const response = await fetch(webhookUrl, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "user-agent": "GitHub-Hookshot/ci-relay-demo",
      "x-github-event": delivery.event,
      "x-github-delivery": randomUUID(),
      "x-hub-signature-256": `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`,
    },
    body,
  });
  await response.body?.cancel();
  return response.status;
}
