/**
 * The demo's made-up organisation: one upstream, two downstreams, all in one installation of the
 * demo app. Every other demo module reads its names from here.
 */
export const DEMO_APP = { id: 4242, slug: "ci-relay-demo" } as const;
export const DEMO_INSTALLATION_ID = 77;
export const DEMO_UPSTREAM = "demo-org/upstream";
/** L4: a check run on every PR; its run for PR #2 fails */
export const DEMO_NPU = "demo-org/npu-ci";
/** L3: check runs only on PRs labelled ciflow/relay/gpu */
export const DEMO_GPU = "demo-org/gpu-ci";
export const DEMO_REPOS = [DEMO_UPSTREAM, DEMO_NPU, DEMO_GPU] as const;

export const DEMO_RELAY_CONFIG = `# written by npm run demo
version: 1
upstreams: [${DEMO_UPSTREAM}]
label_prefix: ciflow/relay/
check_prefix: relay
push: { branches: [main] }
pull_request:
  actions: [opened, reopened, synchronize, closed]
  trust: [OWNER, MEMBER, COLLABORATOR]
  trust_label: ciflow/relay/ok-to-test
downstreams:
  - { repo: ${DEMO_NPU}, level: L4, oncalls: [npu-oncall] }
  - { repo: ${DEMO_GPU}, level: L3, device: gpu, oncalls: [gpu-oncall] }
`;

/** The run the simulator reports as failed, so the page shows both outcomes. */
export const failsFor = (downstream: string, prNumber: number | null) => downstream === DEMO_NPU && prNumber === 2;
