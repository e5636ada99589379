import { DEFAULT_LEVELS } from "../../src/config/levels-config";
import type { Downstream, RelayConfig } from "../../src/config/types";

/** A valid normalised config with SPEC defaults; tests override what they are about. */
export function relayConfig(overrides: Partial<RelayConfig> = {}): RelayConfig {
  return {
    form: "native",
    upstreams: ["pytorch/pytorch"],
    labelPrefix: "ciflow/relay/",
    checkPrefix: "relay",
    runsOnDefault: "self-hosted",
    cacheTtlSeconds: 300,
    push: { branches: ["main", "release/*"], tags: ["ciflow/*/*"] },
    pullRequest: {
      actions: ["opened", "reopened", "synchronize", "closed"],
      trust: ["OWNER", "MEMBER", "COLLABORATOR"],
      trustLabel: "ciflow/relay/ok-to-test",
    },
    downstreams: [
      downstream({ repo: "Ascend/pytorch", level: "L3", device: "npu" }),
      downstream({ repo: "vendor/backend", level: "L2" }),
    ],
    broker: [],
    levels: DEFAULT_LEVELS,
    ciProviders: [],
    ...overrides,
  };
}

export function downstream(overrides: Partial<Downstream> & Pick<Downstream, "repo">): Downstream {
  return {
    level: "L2",
    oncalls: [],
    notify: [],
    events: ["pull_request", "push"],
    transport: "dispatch",
    runsOn: "self-hosted",
    jobs: [],
    maxDeliveries: 5,
    pickupTimeoutMinutes: 60,
    jobTimeoutMinutes: 360,
    callers: {},
    ...overrides,
  };
}
