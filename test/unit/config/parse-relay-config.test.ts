import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseRelayConfig, RelayConfigError } from "../../../src/config/parse-relay-config";
import { downstream } from "../../support/relay-config";

type Fixture = "relay.native.yml" | "relay.minimal.yml" | "allowlist.crcr.yml";

function fixture(name: Fixture): string {
  return readFileSync(join(__dirname, "../../fixtures/config", name), "utf8");
}

/** The error's lines; fails the test when the text parses. */
function problemsIn(text: string, upstreamRepo?: string): string[] {
  try {
    parseRelayConfig(text, { source: "relay.yml", upstreamRepo });
  } catch (error) {
    if (error instanceof RelayConfigError) return error.message.split("\n");
    throw error;
  }
  throw new Error("expected the config to be refused");
}

const yaml = (lines: string[]) => lines.join("\n") + "\n";

describe("native form", () => {
  test("the full example of SPEC §2 normalises key by key", () => {
    expect(parseRelayConfig(fixture("relay.native.yml"), { source: "relay.native.yml" })).toEqual({
      form: "native",
      upstreams: ["pytorch/pytorch"],
      labelPrefix: "ciflow/relay/",
      checkPrefix: "relay",
      runsOnDefault: "self-hosted",
      cacheTtlSeconds: 120,
      push: { branches: ["main", "release/*"], tags: ["ciflow/*/*"] },
      pullRequest: {
        actions: ["opened", "reopened", "synchronize", "closed"],
        trust: ["OWNER", "MEMBER", "COLLABORATOR"],
        trustLabel: "ciflow/relay/ok-to-test",
      },
      downstreams: [
        downstream({
          repo: "Ascend/pytorch",
          level: "L3",
          device: "npu",
          oncalls: ["alice"],
          pickupTimeoutMinutes: 30,
          callers: {
            repositoryId: "123456789",
            workflowRef: "Ascend/pytorch/.github/workflows/upstream.yml@refs/heads/main",
          },
        }),
        downstream({
          repo: "vendor/farm",
          level: "L4",
          transport: "queue",
          runsOn: "ascend-910b",
          jobs: [
            { id: "build", runsOn: "x86" },
            { id: "test", runsOn: "ascend-910b" },
          ],
          maxDeliveries: 3,
          jobTimeoutMinutes: 240,
        }),
        downstream({ repo: "example/observer", level: "L1", events: ["push"] }),
        downstream({ repo: "example/nightly", level: "L2", events: [] }),
      ],
      broker: [
        {
          caller: {
            repository: "Ascend/pytorch",
            repositoryId: "123456789",
            workflowRef: "*",
            eventName: ["repository_dispatch", "push"],
          },
          repos: ["pytorch/pytorch"],
          operations: ["github.issue.read", "github.pr.read", "github.pr.comment.create"],
          live: ["github.pr.comment.create"],
        },
      ],
      levels: {
        windowDays: 7,
        thresholds: {
          L3: { min_success_rate: 0.9, max_p95_queue_minutes: 60 },
          L4: {
            min_dispatches: 20,
            min_success_rate: 0.95,
            min_pickup_rate: 0.99,
            max_p95_queue_minutes: 30,
            max_p95_execution_minutes: 120,
            max_timeouts: 1,
          },
        },
      },
      ciProviders: [
        {
          issuer: "https://agent.buildkite.com",
          audience: "pytorch-cross-repo-ci-relay",
          repoMap: [
            {
              claims: {
                organization_id: "0b7e1d2c-3f4a-4b5c-8d6e-7f8091a2b3c4",
                pipeline_id: "4f1c2d3e-5a6b-4c7d-9e8f-0a1b2c3d4e5f",
              },
              repo: "example/nightly",
              requiredClaims: { build_branch: ["main"] },
            },
          ],
        },
        {
          issuer: "https://gitlab.com",
          repoMap: [{ claims: { project_id: "4242" }, repo: "vendor/farm", requiredClaims: {} }],
        },
      ],
    });
  });

  test("a minimal config takes every default of SPEC §2", () => {
    const config = parseRelayConfig(fixture("relay.minimal.yml"), { source: "relay.minimal.yml" });
    expect(config).toEqual({
      form: "native",
      upstreams: ["pytorch/pytorch"],
      labelPrefix: "ciflow/relay/",
      checkPrefix: "relay",
      runsOnDefault: "self-hosted",
      cacheTtlSeconds: 300,
      push: { branches: ["main"], tags: [] },
      pullRequest: {
        actions: ["opened", "reopened", "synchronize", "closed"],
        trust: ["OWNER", "MEMBER", "COLLABORATOR"],
        trustLabel: null,
      },
      downstreams: [downstream({ repo: "example/downstream", level: "L2" })],
      broker: [],
      levels: { windowDays: 14, thresholds: {} },
      ciProviders: [],
    });
  });

  test("a queue downstream without runs_on uses runs_on_default, and so do its jobs", () => {
    const config = parseRelayConfig(
      yaml([
        "version: 1",
        "upstreams: [pytorch/pytorch]",
        "runs_on_default: farm",
        "downstreams:",
        "  - {repo: vendor/farm, level: L2, transport: queue, jobs: [{id: build}]}",
      ]),
      { source: "relay.yml" },
    );
    expect(config.downstreams[0]).toMatchObject({
      runsOn: "farm",
      jobs: [{ id: "build", runsOn: "farm" }],
      maxDeliveries: 5,
    });
  });

  test("an unquoted numeric repository_id and a single event_name are accepted", () => {
    const config = parseRelayConfig(
      yaml([
        "version: 1",
        "upstreams: [pytorch/pytorch]",
        "broker:",
        "  - caller: {repository: Ascend/pytorch, repository_id: 123456789, event_name: push}",
        "    repos: [pytorch/pytorch]",
        "    operations: [github.pr.read]",
      ]),
      { source: "relay.yml" },
    );
    expect(config.broker[0].caller).toEqual({
      repository: "Ascend/pytorch",
      repositoryId: "123456789",
      eventName: ["push"],
    });
  });

  test("an invalid level is reported at its key", () => {
    expect(
      problemsIn(
        yaml(["version: 1", "upstreams: [pytorch/pytorch]", "downstreams:", "  - repo: a/b", "    level: L5"]),
      ),
    ).toEqual(['relay.yml:5:5: downstreams[0].level: Invalid option: expected one of "L1"|"L2"|"L3"|"L4"']);
  });

  test("unknown keys are errors at every depth", () => {
    expect(
      problemsIn(
        yaml([
          "version: 1",
          "upstreams: [pytorch/pytorch]",
          "labels: ciflow/",
          "pull_request:",
          "  trusted: [OWNER]",
          "downstreams:",
          "  - repo: a/b",
          "    level: L2",
          "    callers: {repository_id: '1', workflow: x}",
        ]),
      ),
    ).toEqual([
      "relay.yml:3:1: labels: unknown key",
      "relay.yml:5:3: pull_request.trusted: unknown key",
      "relay.yml:9:35: downstreams[0].callers.workflow: unknown key",
    ]);
  });

  test("levels: unknown keys, unknown levels and thresholds out of range are errors", () => {
    expect(
      problemsIn(
        yaml([
          "version: 1",
          "upstreams: [pytorch/pytorch]",
          "levels:",
          "  L3: {min_success_rate: 1.5, max_p95_queue_minutes: 0, min_sucess_rate: 0.9}",
          "  L5: {}",
          "  window_days: 31",
        ]),
      ),
    ).toEqual([
      "relay.yml:4:8: levels.L3.min_success_rate: Too big: expected number to be <=1",
      "relay.yml:4:31: levels.L3.max_p95_queue_minutes: Too small: expected number to be >0",
      "relay.yml:4:57: levels.L3.min_sucess_rate: unknown key",
      "relay.yml:5:3: levels.L5: unknown key",
      "relay.yml:6:3: levels.window_days: Too big: expected number to be <=30",
    ]);
  });

  test("an L3 downstream without device points at the entry", () => {
    expect(
      problemsIn(
        yaml([
          "version: 1",
          "upstreams: [pytorch/pytorch]",
          "downstreams:",
          "  - repo: Ascend/pytorch",
          "    level: L3",
        ]),
      ),
    ).toEqual(["relay.yml:4:5: downstreams[0].device: required for level L3"]);
  });

  test("device on a level other than L3 and queue keys on a dispatch downstream are refused", () => {
    expect(
      problemsIn(
        yaml([
          "version: 1",
          "upstreams: [pytorch/pytorch]",
          "downstreams:",
          "  - repo: a/b",
          "    level: L2",
          "    device: npu",
          "    max_deliveries: 3",
        ]),
      ),
    ).toEqual([
      "relay.yml:6:5: downstreams[0].device: only for level L3",
      "relay.yml:7:5: downstreams[0].max_deliveries: only for transport: queue",
    ]);
  });

  describe("notify (oncall comments)", () => {
    const withDownstream = (entry: string) =>
      yaml(["version: 1", "upstreams: [pytorch/pytorch]", "downstreams:", entry]);

    test("an L3 or L4 downstream may ask for comments; the default is none", () => {
      const config = parseRelayConfig(
        yaml([
          "version: 1",
          "upstreams: [pytorch/pytorch]",
          "downstreams:",
          "  - {repo: a/gpu, level: L3, device: gpu, oncalls: [alice], notify: [comment]}",
          "  - {repo: a/gate, level: L4, notify: [comment, comment]}",
          "  - {repo: a/quiet, level: L4}",
        ]),
        { source: "relay.yml" },
      );
      expect(config.downstreams.map((d) => [d.repo, d.notify])).toEqual([
        ["a/gpu", ["comment"]],
        ["a/gate", ["comment"]],
        ["a/quiet", []],
      ]);
    });

    test.each(["L1", "L2"])("%s has no check on the PR to comment about: notify is refused", (level) => {
      expect(problemsIn(withDownstream(`  - {repo: a/b, level: ${level}, notify: [comment]}`))).toEqual([
        "relay.yml:4:28: downstreams[0].notify: only for level L3 or L4",
      ]);
    });

    test("an unknown channel is refused", () => {
      expect(problemsIn(withDownstream("  - {repo: a/b, level: L4, notify: [email]}"))).toEqual([
        'relay.yml:4:37: downstreams[0].notify[0]: Invalid input: expected "comment"',
      ]);
    });
  });

  test("repositories repeated in another case are duplicates", () => {
    expect(
      problemsIn(
        yaml([
          "version: 1",
          "upstreams: [pytorch/pytorch, PyTorch/PyTorch]",
          "downstreams:",
          "  - {repo: Ascend/pytorch, level: L2}",
          "  - {repo: ascend/PyTorch, level: L4}",
        ]),
      ),
    ).toEqual([
      "relay.yml:2:30: upstreams[1]: duplicate repository",
      "relay.yml:5:6: downstreams[1].repo: duplicate repository",
    ]);
  });

  test("names that are not owner/repo are refused", () => {
    expect(problemsIn(yaml(["version: 1", "upstreams: [pytorch]"]))).toEqual([
      "relay.yml:2:13: upstreams[0]: must look like owner/repo",
    ]);
  });

  test("a live operation must also be granted", () => {
    expect(
      problemsIn(
        yaml([
          "version: 1",
          "upstreams: [pytorch/pytorch]",
          "broker:",
          "  - caller: {repository: Ascend/pytorch}",
          "    repos: [pytorch/pytorch]",
          "    operations: [github.pr.read]",
          "    live: [github.pr.create]",
        ]),
      ),
    ).toEqual(["relay.yml:7:12: broker[0].live[0]: must also be listed in operations"]);
  });

  test("ci_providers: a mapping names a configured downstream, each issuer once, at least one claim", () => {
    expect(
      problemsIn(
        yaml([
          "version: 1",
          "upstreams: [pytorch/pytorch]",
          "downstreams: [{repo: vllm-project/vllm, level: L2}]",
          "ci_providers:",
          "  - issuer: https://ci.example.com",
          "    repo_map:",
          "      - {claims: {project: p1}, repo: vllm-project/unknown}",
          "      - {claims: {}, repo: vllm-project/vllm}",
          "  - issuer: https://ci.example.com",
          "    repo_map: [{claims: {project: p1}, repo: vllm-project/vllm, required: {}}]",
        ]),
      ),
    ).toEqual([
      "relay.yml:7:33: ci_providers[0].repo_map[0].repo: is not a configured downstream",
      "relay.yml:8:10: ci_providers[0].repo_map[1].claims: must name at least one claim",
      "relay.yml:9:5: ci_providers[1].issuer: duplicate issuer",
      "relay.yml:10:65: ci_providers[1].repo_map[0].required: unknown key",
    ]);
  });

  test("ci_providers: Buildkite pipelines are mapped by UUID, never by slug; issuers are https", () => {
    expect(
      problemsIn(
        yaml([
          "version: 1",
          "upstreams: [pytorch/pytorch]",
          "downstreams: [{repo: vllm-project/vllm, level: L2}]",
          "ci_providers:",
          "  - issuer: https://agent.buildkite.com",
          "    repo_map:",
          "      - {claims: {organization_slug: vllm, pipeline_slug: ci}, repo: vllm-project/vllm}",
          "      - {claims: {pipeline_id: ci}, repo: vllm-project/vllm}",
          "      - {claims: {pipeline_id: 4f1c2d3e-5a6b-4c7d-9e8f-0a1b2c3d4e5f}, repo: vllm-project/vllm}",
          "      - {claims: {pipeline_id: 4f1c2d3e-5a6b-4c7d-9e8f-0a1b2c3d4e5f}, repo: vllm-project/vllm}",
          "  - issuer: http://ci.example.com",
          "    repo_map: [{claims: {project: p1}, repo: vllm-project/vllm}]",
        ]),
      ),
    ).toEqual([
      "relay.yml:7:10: ci_providers[0].repo_map[0].claims: must name pipeline_id: Buildkite callers are mapped by immutable id",
      "relay.yml:7:19: ci_providers[0].repo_map[0].claims.organization_slug: names something that can be renamed; map by an immutable id",
      "relay.yml:7:44: ci_providers[0].repo_map[0].claims.pipeline_slug: names something that can be renamed; map by an immutable id",
      "relay.yml:8:19: ci_providers[0].repo_map[1].claims.pipeline_id: is not a Buildkite id",
      "relay.yml:10:10: ci_providers[0].repo_map[3].claims: the same claims as an earlier entry",
      "relay.yml:11:5: ci_providers[1].issuer: must be an https URL (http only on a loopback host)",
    ]);
  });

  test("ci_providers: GitLab and CircleCI mappings name their project ids", () => {
    const config = parseRelayConfig(
      yaml([
        "version: 1",
        "upstreams: [pytorch/pytorch]",
        "downstreams: [{repo: vendor/gitlab, level: L2}, {repo: vendor/circle, level: L2}]",
        "ci_providers:",
        "  - issuer: https://gitlab.com",
        "    repo_map: [{claims: {project_id: 42}, repo: vendor/gitlab, required_claims: {ref_protected: ['true']}}]",
        "  - issuer: https://oidc.circleci.com/org/7c1e2d3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f",
        "    repo_map: [{claims: {oidc.circleci.com/project-id: 1d2e3f4a-5b6c-4d7e-8f9a-0b1c2d3e4f5a}, repo: vendor/circle}]",
      ]),
      { source: "relay.yml" },
    );
    expect(config.ciProviders.map((provider) => provider.repoMap[0].claims)).toEqual([
      { project_id: "42" },
      { "oidc.circleci.com/project-id": "1d2e3f4a-5b6c-4d7e-8f9a-0b1c2d3e4f5a" },
    ]);
    expect(
      problemsIn(
        yaml([
          "version: 1",
          "upstreams: [pytorch/pytorch]",
          "downstreams: [{repo: vendor/gitlab, level: L2}]",
          "ci_providers:",
          "  - issuer: https://gitlab.com",
          "    repo_map: [{claims: {project_path: vendor/gitlab}, repo: vendor/gitlab}]",
        ]),
      ),
    ).toEqual([
      "relay.yml:6:17: ci_providers[0].repo_map[0].claims: must name project_id: GitLab callers are mapped by immutable id",
      "relay.yml:6:26: ci_providers[0].repo_map[0].claims.project_path: names something that can be renamed; map by an immutable id",
    ]);
  });

  test("a missing version is reported for the whole file", () => {
    expect(problemsIn(yaml(["upstreams: [pytorch/pytorch]"]))).toEqual([
      "relay.yml:1:1: version: Invalid input: expected 1",
    ]);
  });
});

describe("CRCR allowlist form", () => {
  test("PyTorch's allowlist shape becomes downstreams with CRCR behaviour", () => {
    const config = parseRelayConfig(fixture("allowlist.crcr.yml"), {
      source: "allowlist.crcr.yml",
      upstreamRepo: "pytorch/pytorch",
    });
    expect(config).toEqual({
      form: "crcr",
      upstreams: ["pytorch/pytorch"],
      labelPrefix: "ciflow/crcr/",
      checkPrefix: "crcr",
      runsOnDefault: "self-hosted",
      cacheTtlSeconds: 300,
      push: { branches: ["*"], tags: ["*"] },
      pullRequest: { actions: ["opened", "reopened", "synchronize", "closed"], trust: null, trustLabel: null },
      downstreams: [
        downstream({ repo: "example/observer", level: "L1" }),
        downstream({ repo: "example/quiet", level: "L1", oncalls: ["carol"] }),
        downstream({ repo: "intel/intel-extension-for-pytorch", level: "L2", oncalls: ["dave", "erin"] }),
        downstream({ repo: "example/listed-oncalls", level: "L2", oncalls: ["frank", "grace"] }),
        downstream({
          repo: "Ascend/pytorch",
          level: "L3",
          device: "npu",
          oncalls: ["alice", "bob"],
          notify: ["comment"],
        }),
        downstream({ repo: "apple/pytorch-mps", level: "L3", device: "mps", oncalls: ["heidi"], notify: ["comment"] }),
      ],
      broker: [],
      levels: { windowDays: 14, thresholds: {} },
      ciProviders: [],
    });
  });

  test("an L3 or L4 entry's oncalls are pinged by comment, as CRCR does; one naming none, or a lower level, is not", () => {
    const config = parseRelayConfig(yaml(["L2:", "  - a/low: alice", "L4:", "  - a/gate: bob", "  - a/silent"]), {
      source: "a.yml",
      upstreamRepo: "o/r",
    });
    expect(config.downstreams.map((d) => [d.repo, d.notify])).toEqual([
      ["a/low", []],
      ["a/gate", ["comment"]],
      ["a/silent", []],
    ]);
  });

  test("empty levels are fine", () => {
    expect(parseRelayConfig("L1:\nL2:\nL3:\nL4:\n", { source: "a.yml", upstreamRepo: "o/r" }).downstreams).toEqual([]);
  });

  test("the upstream must be given by UPSTREAM_REPO", () => {
    expect(problemsIn("L1:\n  - a/b\n")).toEqual([
      "relay.yml: a CRCR allowlist (top-level L1..L4) needs UPSTREAM_REPO to name the upstream",
    ]);
  });

  test("a repo at two levels is reported where it appears the second time, whatever its case", () => {
    expect(problemsIn(yaml(["L1:", "  - a/b", "L3:", "  npu:", "    A/B: [x]"]), "o/r")).toEqual([
      'relay.yml:5:5: L3.npu["A/B"]: repository already listed at L1',
    ]);
  });

  test("a bad entry names what an entry may be", () => {
    expect(problemsIn(yaml(["L2:", "  - a/b", "  - not-a-repo", "  - {c/d: 3}"]), "o/r")).toEqual([
      "relay.yml:3:5: L2[1]: must look like owner/repo",
      'relay.yml:4:6: L2[2]["c/d"]: must be "oncall1, oncall2" or a list of oncalls',
    ]);
  });

  test("native keys next to levels are unknown keys", () => {
    expect(problemsIn(yaml(["version: 1", "L1: [a/b]"]), "o/r")).toEqual(["relay.yml:1:1: version: unknown key"]);
  });
});

describe("YAML errors", () => {
  test("a syntax error is reported at its position", () => {
    expect(problemsIn("version: 1\nupstreams: [a/b\ndownstreams: []\n")[0]).toMatch(/^relay\.yml:\d+:\d+: YAML: /);
  });

  test("a repeated key is a YAML error", () => {
    expect(problemsIn("version: 1\nversion: 1\n")).toEqual(["relay.yml:2:1: YAML: Map keys must be unique"]);
  });

  test("an empty file is refused", () => {
    expect(problemsIn("# nothing yet\n")).toEqual(["relay.yml: the file is empty"]);
  });
});
