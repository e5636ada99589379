import { bindingRejection } from "../../../src/callback/binding-rejection";

const identity = {
  repository: "Vendor/Backend",
  repository_id: "123456789",
  workflow_ref: "Vendor/Backend/.github/workflows/upstream.yml@refs/heads/main",
};
const claims = { sub: "vendor/backend" };

describe("binding an OIDC caller to a relay token", () => {
  test("the token's own repository, in any letter case, is bound when nothing is pinned", () => {
    expect(bindingRejection(identity, claims, {})).toBeNull();
  });

  test("another repository cannot report for this dispatch", () => {
    expect(bindingRejection({ ...identity, repository: "vendor/backend-fork" }, claims, {})).toBe(
      "repository-mismatch",
    );
  });

  test("a pinned repository id must match (a re-created repository has a new one)", () => {
    expect(bindingRejection(identity, claims, { repositoryId: "123456789" })).toBeNull();
    expect(bindingRejection(identity, claims, { repositoryId: "987654321" })).toBe("repository-id-mismatch");
    expect(bindingRejection({ ...identity, repository_id: undefined }, claims, { repositoryId: "123456789" })).toBe(
      "repository-id-mismatch",
    );
  });

  test.each([
    ["*", null],
    ["Vendor/Backend/.github/workflows/*@refs/heads/main", null],
    ["Vendor/Backend/.github/workflows/upstream.yml@refs/heads/main", null],
    ["Vendor/Backend/.github/workflows/other.yml@*", "workflow-ref-mismatch"],
    ["Vendor/Backend/.github/workflows/upstream.yml@refs/heads/release", "workflow-ref-mismatch"],
    ["vendor/backend/.github/workflows/upstream.yml@refs/heads/main", null],
    ["Vendor/Backend/.github/workflows/upstream.yml@refs/heads/Main", "workflow-ref-mismatch"],
  ])("a workflow_ref pin of %s gives %s", (pin, expected) => {
    expect(bindingRejection(identity, claims, { workflowRef: pin })).toBe(expected);
  });

  test.each([
    "Vendor/Backend/.github/workflows/evil.yml@refs/heads/attacker@refs/heads/main",
    "Vendor/Backend/.github/workflows/sub/evil.yml@refs/heads/main",
    "Vendor/Backend/.github/workflows/evil.yml%40refs/heads/x@refs/heads/main",
    "Vendor/Backend/.github/workflows/upstream.yml@refs/heads/main\n",
  ])("the pin workflows/*@refs/heads/main refuses %j", (workflowRef) => {
    const pin = { workflowRef: "Vendor/Backend/.github/workflows/*@refs/heads/main" };
    expect(bindingRejection({ ...identity, workflow_ref: workflowRef }, claims, pin)).toBe("workflow-ref-mismatch");
  });

  test("a token without workflow_ref fails a workflow pin", () => {
    expect(bindingRejection({ ...identity, workflow_ref: undefined }, claims, { workflowRef: "*" })).toBe(
      "workflow-ref-mismatch",
    );
  });

  test("a ci_providers caller is bound by its mapped repository; GitHub Actions pins do not apply to it", () => {
    const buildkite = { repository: "vendor/backend", provider: "https://agent.buildkite.com" };
    const pins = {
      repositoryId: "123456789",
      workflowRef: "Vendor/Backend/.github/workflows/upstream.yml@refs/heads/main",
    };

    expect(bindingRejection(buildkite, claims, pins)).toBeNull();
    expect(bindingRejection({ ...buildkite, repository: "vendor/other" }, claims, pins)).toBe("repository-mismatch");
  });
});
