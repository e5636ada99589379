import { resolveProviderCaller } from "../../../src/auth/resolve-provider-caller";
import type { ProviderRepoMapping } from "../../../src/config/types";

const ORG = "0b7e1d2c-3f4a-4b5c-8d6e-7f8091a2b3c4";
const PIPELINE = "4f1c2d3e-5a6b-4c7d-9e8f-0a1b2c3d4e5f";
const OTHER_PIPELINE = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";

const repoMap: ProviderRepoMapping[] = [
  {
    claims: { organization_id: ORG, pipeline_id: PIPELINE },
    repo: "vllm-project/vllm",
    requiredClaims: { build_branch: ["main", "release/*"] },
  },
  { claims: { organization_id: ORG, pipeline_id: OTHER_PIPELINE }, repo: "vllm-project/nightly", requiredClaims: {} },
];
const token = {
  organization_id: ORG,
  organization_slug: "vllm",
  pipeline_id: PIPELINE,
  pipeline_slug: "ci",
  build_branch: "main",
};

describe("resolving a ci_providers caller from its verified claims", () => {
  test("the entry whose claims all equal the token's names the downstream", () => {
    expect(resolveProviderCaller(repoMap, token)).toEqual({ repo: "vllm-project/vllm" });
    expect(resolveProviderCaller(repoMap, { ...token, pipeline_id: OTHER_PIPELINE })).toEqual({
      repo: "vllm-project/nightly",
    });
  });

  test("a pipeline no entry maps is not a caller", () => {
    const unmapped = { ...token, pipeline_id: "11111111-2222-4333-8444-555555555555" };
    expect(resolveProviderCaller(repoMap, unmapped)).toEqual({ rejection: "provider-caller-not-mapped" });
  });

  test("matching only some of an entry's claims is not enough", () => {
    const otherOrg = { ...token, organization_id: "22222222-3333-4444-8555-666666666666" };
    expect(resolveProviderCaller(repoMap, otherOrg)).toEqual({ rejection: "provider-caller-not-mapped" });
    const { pipeline_id: _dropped, ...withoutPipeline } = token;
    expect(resolveProviderCaller(repoMap, withoutPipeline)).toEqual({ rejection: "provider-caller-not-mapped" });
  });

  test("the same slugs under another pipeline's UUID are not the mapped pipeline", () => {
    // A pipeline re-created (or an organisation re-registered) under the old slug gets a new UUID.
    const impostor = {
      ...token,
      pipeline_id: "33333333-4444-4555-8666-777777777777",
      pipeline_slug: "ci",
      organization_slug: "vllm",
    };
    expect(resolveProviderCaller(repoMap, impostor)).toEqual({ rejection: "provider-caller-not-mapped" });
  });

  test("ids are compared exactly: no case folding, no patterns, no numbers for strings", () => {
    expect(resolveProviderCaller(repoMap, { ...token, pipeline_id: PIPELINE.toUpperCase() })).toEqual({
      rejection: "provider-caller-not-mapped",
    });
    const wildcard: ProviderRepoMapping[] = [{ claims: { project_id: "*" }, repo: "o/r", requiredClaims: {} }];
    expect(resolveProviderCaller(wildcard, { project_id: "42" })).toEqual({ rejection: "provider-caller-not-mapped" });
    const numeric: ProviderRepoMapping[] = [{ claims: { project_id: "42" }, repo: "o/r", requiredClaims: {} }];
    expect(resolveProviderCaller(numeric, { project_id: 42 })).toEqual({ rejection: "provider-caller-not-mapped" });
    expect(resolveProviderCaller(numeric, { project_id: "42" })).toEqual({ repo: "o/r" });
  });

  test("a required claim that does not match its patterns refuses the caller (a fork's branch)", () => {
    expect(resolveProviderCaller(repoMap, { ...token, build_branch: "release/2.6" })).toEqual({
      repo: "vllm-project/vllm",
    });
    expect(resolveProviderCaller(repoMap, { ...token, build_branch: "attacker:main" })).toEqual({
      rejection: "required-claim-mismatch",
      claim: "build_branch",
    });
    expect(resolveProviderCaller(repoMap, { ...token, build_branch: "release/2.6/x" })).toEqual({
      rejection: "required-claim-mismatch",
      claim: "build_branch",
    });
  });

  test("a required claim that is missing or not a string refuses the caller", () => {
    const { build_branch: _dropped, ...withoutBranch } = token;
    expect(resolveProviderCaller(repoMap, withoutBranch)).toEqual({
      rejection: "required-claim-missing",
      claim: "build_branch",
    });
    expect(resolveProviderCaller(repoMap, { ...token, build_branch: ["main"] })).toEqual({
      rejection: "required-claim-missing",
      claim: "build_branch",
    });
  });

  test("once an entry is chosen, its unmet required claims are not bypassed by a later entry", () => {
    const twice: ProviderRepoMapping[] = [
      { claims: { pipeline_id: PIPELINE }, repo: "o/strict", requiredClaims: { build_branch: ["main"] } },
      { claims: { pipeline_id: PIPELINE, organization_id: ORG }, repo: "o/lax", requiredClaims: {} },
    ];
    expect(resolveProviderCaller(twice, { ...token, build_branch: "feature" })).toEqual({
      rejection: "required-claim-mismatch",
      claim: "build_branch",
    });
  });
});
