import type { FuzzTarget } from "./fuzz-driver";
import type { FuzzTemplates } from "./fuzz-requests";
import { DEFAULT_REPOSITORY } from "./oidc-issuer";
import { dispatchPr, startCallbackWorld, type CallbackWorld } from "./callback-world";
import { pullRequestEvent, pushEvent } from "./webhooks";

/**
 * The relay the fuzz suite attacks: the real server process with a fake GitHub, the local OIDC issuer
 * and a HUD sink, configured so every endpoint has something behind it (an L2 downstream with real
 * dispatches for callbacks, broker grants for the issuer's default identity, issues and PRs to read).
 */

const UPSTREAM = "pytorch/pytorch";
const DOWNSTREAM = "Vendor/Backend";
const CONFIG = `
version: 1
upstreams: [${UPSTREAM}]
downstreams:
  - { repo: ${DOWNSTREAM}, level: L2 }
broker:
  - caller: { repository: ${DEFAULT_REPOSITORY} }
    repos: [${UPSTREAM}]
    operations: [github.auth.status, github.issue.list, github.issue.read, github.pr.list, github.pr.read, github.pr.create, github.pr.comment.create]
    live: [github.pr.comment.create]
`;

export interface FuzzWorld {
  target: FuzzTarget;
  templates: FuzzTemplates;
  world: CallbackWorld;
  close(): Promise<void>;
}

export async function startFuzzWorld(options: { logLevel?: string } = {}): Promise<FuzzWorld> {
  const world = await startCallbackWorld(CONFIG, [DOWNSTREAM], {
    // The fuzz suite sends tens of thousands of requests: the harness keeps every log line in memory.
    LOG_LEVEL: options.logLevel ?? "warn",
    // High enough that callbacks reach the checks behind the rate limit rather than all answering 429.
    CALLBACK_RATE_LIMIT_PER_MINUTE: "1000000",
  });
  world.github.setIssue(UPSTREAM, { number: 1, title: "an issue" });
  world.github.setPull(UPSTREAM, { number: 59, title: "a pull request" });
  const dispatched = await Promise.all([1, 2, 3].map(() => dispatchPr(world, [DOWNSTREAM])));
  const templates: FuzzTemplates = {
    webhookSecret: world.relay.webhookSecret,
    webhookPayloads: [
      pullRequestEvent("opened", {
        repo: UPSTREAM,
        installationId: 11,
        authorAssociation: "MEMBER",
      }) as unknown as Record<string, unknown>,
      pullRequestEvent("synchronize", {
        repo: UPSTREAM,
        installationId: 11,
        authorAssociation: "CONTRIBUTOR",
      }) as unknown as Record<string, unknown>,
      pushEvent({ repo: UPSTREAM, installationId: 11 }) as unknown as Record<string, unknown>,
    ],
    relayTokens: dispatched.map((d) => d[DOWNSTREAM].callbackToken),
    callbackRepository: DOWNSTREAM.toLowerCase(),
    brokerRepository: DEFAULT_REPOSITORY,
    upstream: UPSTREAM,
  };
  return {
    target: { baseUrl: world.relay.baseUrl, pid: world.relay.pid, issuer: world.issuer, exited: world.relay.exited },
    templates,
    world,
    close: () => world.close(),
  };
}
