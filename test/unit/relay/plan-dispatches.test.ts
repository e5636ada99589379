import { planDispatches } from "../../../src/relay/plan-dispatches";
import { downstream, relayConfig } from "../../support/relay-config";
import { prEvent, pushEvent } from "../../support/upstream-event";

const repos = (plan: ReturnType<typeof planDispatches>) =>
  plan.relay ? plan.downstreams.map((d) => d.repo) : plan.reason;

describe("planDispatches", () => {
  it("relays a trusted PR to every downstream", () => {
    expect(repos(planDispatches(relayConfig(), prEvent()))).toEqual(["Ascend/pytorch", "vendor/backend"]);
  });

  it("matches the upstream case-insensitively", () => {
    expect(repos(planDispatches(relayConfig(), prEvent({ repo: "PyTorch/PyTorch" })))).toEqual([
      "Ascend/pytorch",
      "vendor/backend",
    ]);
  });

  it("ignores events of repositories that are not upstreams", () => {
    expect(repos(planDispatches(relayConfig(), prEvent({ repo: "someone/else" })))).toBe("not-upstream");
  });

  it.each(["opened", "reopened", "synchronize", "closed"])("relays the configured action %s", (action) => {
    expect(planDispatches(relayConfig(), prEvent({ action })).relay).toBe(true);
  });

  it.each(["edited", "assigned", "labeled", "review_requested"])(
    "does not relay the unconfigured action %s",
    (action) => {
      expect(repos(planDispatches(relayConfig(), prEvent({ action })))).toBe("action-not-relayed");
    },
  );

  it("holds back a PR from an untrusted author", () => {
    expect(repos(planDispatches(relayConfig(), prEvent({ authorAssociation: "CONTRIBUTOR" })))).toBe(
      "untrusted-author",
    );
    expect(
      repos(
        planDispatches(relayConfig(), prEvent({ authorAssociation: "FIRST_TIME_CONTRIBUTOR", action: "synchronize" })),
      ),
    ).toBe("untrusted-author");
  });

  it("relays an untrusted PR once it carries the trust label", () => {
    const labelled = prEvent({
      authorAssociation: "CONTRIBUTOR",
      labels: ["ciflow/relay/ok-to-test"],
      action: "synchronize",
    });
    expect(planDispatches(relayConfig(), labelled).relay).toBe(true);
  });

  it("relays an untrusted PR at the moment a maintainer adds the trust label", () => {
    const event = prEvent({
      authorAssociation: "NONE",
      action: "labeled",
      addedLabel: "ciflow/relay/ok-to-test",
      labels: ["ciflow/relay/ok-to-test"],
    });
    expect(planDispatches(relayConfig(), event).relay).toBe(true);
  });

  it("does not re-relay a trusted PR when the trust label is added", () => {
    const event = prEvent({
      action: "labeled",
      addedLabel: "ciflow/relay/ok-to-test",
      labels: ["ciflow/relay/ok-to-test"],
    });
    expect(repos(planDispatches(relayConfig(), event))).toBe("action-not-relayed");
  });

  it("does not gate on trust when the config has none (CRCR)", () => {
    const config = relayConfig({ pullRequest: { actions: ["opened"], trust: null, trustLabel: null } });
    expect(planDispatches(config, prEvent({ authorAssociation: "NONE" })).relay).toBe(true);
  });

  it("relays pushes to branches matching the globs only", () => {
    expect(planDispatches(relayConfig(), pushEvent()).relay).toBe(true);
    expect(planDispatches(relayConfig(), pushEvent({ ref: "refs/heads/release/2.5" })).relay).toBe(true);
    expect(repos(planDispatches(relayConfig(), pushEvent({ ref: "refs/heads/feature/x" })))).toBe("branch-not-relayed");
  });

  it("relays pushes to every branch with the pattern `*` (CRCR), even one whose name holds an `@`", () => {
    const config = relayConfig({ push: { branches: ["*"], tags: [] } });
    expect(planDispatches(config, pushEvent({ ref: "refs/heads/gh/someone/1/head" })).relay).toBe(true);
    expect(planDispatches(config, pushEvent({ ref: "refs/heads/fix@home" })).relay).toBe(true);
  });

  it("matches branches by SPEC §2 patterns: `*` stays within a segment, nothing is a regex or a brace", () => {
    const config = relayConfig({ push: { branches: ["release/*", "v?.x", "gh/**", "{main,dev}"], tags: [] } });
    const relayed = (branch: string) => planDispatches(config, pushEvent({ ref: `refs/heads/${branch}` })).relay;
    expect(relayed("release/2.5")).toBe(true);
    expect(relayed("release/2.5/hotfix")).toBe(false);
    expect(relayed("Release/2.5")).toBe(false);
    expect(relayed("v2.x")).toBe(true);
    expect(relayed("v20.x")).toBe(false);
    expect(relayed("gh/someone/1/head")).toBe(true);
    expect(relayed("gh/someone@x/head")).toBe(false);
    expect(relayed("main")).toBe(false);
    expect(relayed("dev")).toBe(false);
  });

  it("relays tag pushes matching push.tags only, never by a branch glob", () => {
    expect(planDispatches(relayConfig(), pushEvent({ ref: "refs/tags/ciflow/trunk/123", prNumber: 123 })).relay).toBe(
      true,
    );
    expect(repos(planDispatches(relayConfig(), pushEvent({ ref: "refs/tags/v1.0" })))).toBe("branch-not-relayed");
    expect(repos(planDispatches(relayConfig(), pushEvent({ ref: "refs/tags/ciflow/trunk/1/extra" })))).toBe(
      "branch-not-relayed",
    );
    const branchesOnly = relayConfig({ push: { branches: ["*"], tags: [] } });
    expect(repos(planDispatches(branchesOnly, pushEvent({ ref: "refs/tags/ciflow/trunk/123" })))).toBe(
      "branch-not-relayed",
    );
  });

  it("relays pushes to every branch and tag with the pattern `*` (CRCR)", () => {
    const config = relayConfig({ push: { branches: ["*"], tags: ["*"] } });
    expect(planDispatches(config, pushEvent({ ref: "refs/heads/gh/someone/1/head" })).relay).toBe(true);
    expect(planDispatches(config, pushEvent({ ref: "refs/tags/v2.5.0-rc1" })).relay).toBe(true);
  });

  it("never relays a branch or tag deletion", () => {
    expect(repos(planDispatches(relayConfig(), pushEvent({ deleted: true })))).toBe("branch-not-relayed");
    expect(repos(planDispatches(relayConfig(), pushEvent({ ref: "refs/tags/ciflow/trunk/123", deleted: true })))).toBe(
      "branch-not-relayed",
    );
  });

  it("never dispatches to a nightly-only downstream (events: [])", () => {
    const config = relayConfig({
      downstreams: [downstream({ repo: "n/nightly", events: [] }), downstream({ repo: "b/both" })],
    });
    const plan = planDispatches(config, prEvent());
    expect(repos(plan)).toEqual(["b/both"]);
    expect(plan.explanation.downstreams.map((d) => (d.dispatch ? null : d.reason))).toEqual(["nightly-only", null]);
    const onlyNightly = relayConfig({ downstreams: [downstream({ repo: "n/nightly", events: [] })] });
    expect(repos(planDispatches(onlyNightly, prEvent()))).toBe("nightly-only");
    expect(repos(planDispatches(onlyNightly, pushEvent()))).toBe("nightly-only");
  });

  it("honours each downstream's event filter", () => {
    const config = relayConfig({
      downstreams: [
        downstream({ repo: "a/pr-only", events: ["pull_request"] }),
        downstream({ repo: "b/push-only", events: ["push"] }),
      ],
    });
    expect(repos(planDispatches(config, prEvent()))).toEqual(["a/pr-only"]);
    expect(repos(planDispatches(config, pushEvent()))).toEqual(["b/push-only"]);
    const none = relayConfig({ downstreams: [downstream({ repo: "a/pr-only", events: ["pull_request"] })] });
    expect(repos(planDispatches(none, pushEvent()))).toBe("event-not-wanted");
  });
});
