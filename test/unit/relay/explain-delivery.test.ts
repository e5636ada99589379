import { deliverySkipReason, explainDelivery, type DeliveryExplanation } from "../../../src/relay/explain-delivery";
import { planDispatches } from "../../../src/relay/plan-dispatches";
import { downstream, relayConfig } from "../../support/relay-config";
import { prEvent, pushEvent } from "../../support/upstream-event";

/** [repo, dispatched?, reason] per downstream, in config order. */
const outcomes = (explanation: DeliveryExplanation) =>
  explanation.downstreams.map((d) => [d.downstream.repo, d.dispatch, d.dispatch ? d.note : d.reason]);

const config = relayConfig({
  downstreams: [
    downstream({ repo: "Ascend/pytorch", level: "L3", device: "npu" }),
    downstream({ repo: "vendor/backend", level: "L2" }),
    downstream({ repo: "push/only", level: "L1", events: ["push"] }),
    downstream({ repo: "nightly/vendor", level: "L2", events: [] }),
    downstream({ repo: "gate/keeper", level: "L4" }),
  ],
});
const repos = config.downstreams.map((d) => d.repo);
const everyOneSkipped = (reason: string) => repos.map((repo) => [repo, false, reason]);

describe("explainDelivery", () => {
  it("names every configured downstream, in config order, for a relayed PR", () => {
    expect(outcomes(explainDelivery(config, prEvent()))).toEqual([
      ["Ascend/pytorch", true, "label-missing"],
      ["vendor/backend", true, null],
      ["push/only", false, "event-not-wanted"],
      ["nightly/vendor", false, "nightly-only"],
      ["gate/keeper", true, null],
    ]);
  });

  it("an L3 downstream is dispatched without its label; label-missing only says its check runs wait for it", () => {
    const explained = explainDelivery(config, prEvent()).downstreams[0];
    expect(explained).toMatchObject({ dispatch: true, note: "label-missing" });
    expect(explained.detail).toContain("ciflow/relay/npu");
    const labelled = explainDelivery(config, prEvent({ labels: ["ciflow/relay/npu"] })).downstreams[0];
    expect(labelled).toMatchObject({ dispatch: true, note: null });
  });

  it("a push has no PR to label, a closed PR shows no check runs: an L3 downstream is dispatched with no note", () => {
    expect(outcomes(explainDelivery(config, pushEvent()))[0]).toEqual(["Ascend/pytorch", true, null]);
    expect(outcomes(explainDelivery(config, prEvent({ action: "closed" })))[0]).toEqual(["Ascend/pytorch", true, null]);
  });

  it("a push to a branch not relayed, or a deletion, is branch-not-relayed for every downstream", () => {
    expect(outcomes(explainDelivery(config, pushEvent({ ref: "refs/heads/feature/x" })))).toEqual(
      everyOneSkipped("branch-not-relayed"),
    );
    expect(outcomes(explainDelivery(config, pushEvent({ deleted: true })))).toEqual(
      everyOneSkipped("branch-not-relayed"),
    );
    const [first] = explainDelivery(config, pushEvent({ ref: "refs/heads/feature/x" })).downstreams;
    expect(first.detail).toContain("refs/heads/feature/x");
  });

  it("an action not relayed is action-not-relayed for every downstream", () => {
    expect(outcomes(explainDelivery(config, prEvent({ action: "edited" })))).toEqual(
      everyOneSkipped("action-not-relayed"),
    );
  });

  it("an untrusted author's PR is untrusted-author, waiting for the trust label", () => {
    const explained = explainDelivery(config, prEvent({ authorAssociation: "CONTRIBUTOR" }));
    expect(outcomes(explained)).toEqual(everyOneSkipped("untrusted-author"));
    expect(explained.downstreams[1].detail).toContain("waiting for the label ciflow/relay/ok-to-test");
  });

  it("events of a repository that is not an upstream are not-upstream", () => {
    expect(outcomes(explainDelivery(config, prEvent({ repo: "someone/else" })))).toEqual(
      everyOneSkipped("not-upstream"),
    );
  });

  it("the app's own events are own-event, whatever else they are", () => {
    expect(outcomes(explainDelivery(config, prEvent(), { ownEvent: true }))).toEqual(everyOneSkipped("own-event"));
  });

  it("a push skips downstreams that take only PRs as event-not-wanted and nightly-only ones as nightly-only", () => {
    const explained = explainDelivery(
      relayConfig({
        downstreams: [
          downstream({ repo: "pr/only", events: ["pull_request"] }),
          downstream({ repo: "nightly/only", events: [] }),
        ],
      }),
      pushEvent(),
    );
    expect(outcomes(explained)).toEqual([
      ["pr/only", false, "event-not-wanted"],
      ["nightly/only", false, "nightly-only"],
    ]);
    expect(deliverySkipReason(explained)).toBe("event-not-wanted");
  });

  it("a delivery whose downstreams are all nightly-only is counted as nightly-only", () => {
    const nightly = relayConfig({
      downstreams: [downstream({ repo: "nightly/a", events: [] }), downstream({ repo: "nightly/b", events: [] })],
    });
    expect(deliverySkipReason(explainDelivery(nightly, prEvent()))).toBe("nightly-only");
    expect(planDispatches(nightly, prEvent())).toMatchObject({ relay: false, reason: "nightly-only" });
  });

  it("planDispatches dispatches exactly the downstreams the explanation says are dispatched", () => {
    for (const event of [
      prEvent(),
      pushEvent(),
      prEvent({ action: "edited" }),
      prEvent({ authorAssociation: "NONE", labels: ["ciflow/relay/ok-to-test"] }),
    ]) {
      const plan = planDispatches(config, event);
      const dispatched = explainDelivery(config, event)
        .downstreams.filter((d) => d.dispatch)
        .map((d) => d.downstream.repo);
      expect(plan.relay ? plan.downstreams.map((d) => d.repo) : []).toEqual(dispatched);
    }
  });
});
