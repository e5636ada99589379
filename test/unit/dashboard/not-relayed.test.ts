import type { DeliveryView } from "../../../src/dashboard/delivery-view";
import { parseRunsQuery } from "../../../src/dashboard/list-runs";
import { renderDashboard } from "../../../src/dashboard/render-dashboard";

const HOSTILE_REF = `refs/heads/"><script>alert(1)</script>`;

const pushToHostileRef: DeliveryView = {
  deliveryId: "58474f00-b361-11eb-836d-0e4f3503ccbe",
  event: "push",
  action: null,
  receivedAt: "2026-12-01T09:30:00.000Z",
  eventAt: null,
  upstream: { repo: "pytorch/pytorch", sha: "a".repeat(40), ref: HOSTILE_REF, pr_number: null },
  downstreams: [
    {
      repo: "vendor/b",
      level: "L2",
      transport: "dispatch",
      outcome: "skipped",
      reason: "branch-not-relayed",
      detail: `${HOSTILE_REF} is not among the relayed push branches`,
      dispatchId: null,
      attempts: null,
    },
    {
      repo: "vendor/a",
      level: "L1",
      transport: "dispatch",
      outcome: "skipped",
      reason: "nightly-only",
      detail: "nightly-only: this downstream is never dispatched",
      dispatchId: null,
      attempts: null,
    },
  ],
};

const untrustedPr: DeliveryView = {
  ...pushToHostileRef,
  deliveryId: "68474f00-b361-11eb-836d-0e4f3503ccbe",
  event: "pull_request",
  action: "opened",
  upstream: { repo: "pytorch/pytorch", sha: "b".repeat(40), ref: "refs/pull/7/head", pr_number: 7 },
  downstreams: [
    {
      repo: "vendor/b",
      level: "L2",
      transport: "dispatch",
      outcome: "skipped",
      reason: "untrusted-author",
      detail: "author association NONE is not trusted; waiting for the label ci/ok-to-test",
      dispatchId: null,
      attempts: null,
    },
  ],
};

describe("dashboard's Not relayed section", () => {
  it("lists each delivery's skip reasons in words per downstream, in the given order, with a link to the delivery", () => {
    const html = renderDashboard([], parseRunsQuery({}), null, [untrustedPr, pushToHostileRef]);
    expect(html).toContain("Not relayed (2)");
    const section = html.slice(html.indexOf('<section class="not-relayed"'));
    expect(section.indexOf(untrustedPr.deliveryId)).toBeLessThan(section.indexOf(pushToHostileRef.deliveryId));
    expect(section).toContain("pull_request opened");
    expect(section).toContain("PR #7");
    expect(section).toMatch(
      /vendor\/b: <span class="status skipped">untrusted author<\/span> <span class="reason">[^<]*waiting for the label ci\/ok-to-test/,
    );
    expect(section).toContain('<span class="status skipped">branch not relayed</span>');
    expect(section.indexOf('data-repo="vendor/b"', section.indexOf(pushToHostileRef.deliveryId))).toBeLessThan(
      section.indexOf('data-repo="vendor/a"'),
    );
    expect(section).toContain('<span class="status skipped">nightly-only</span>');
    expect(section).toContain(`href="deliveries/${pushToHostileRef.deliveryId}"`);
    expect(section).toContain("2026-12-01 09:30:00 UTC");
  });

  it("escapes a hostile ref everywhere it appears", () => {
    const html = renderDashboard([], parseRunsQuery({}), null, [pushToHostileRef]);
    expect(html).not.toContain("<script>alert");
    expect(html).toContain("&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt; is not among the relayed push branches");
    expect(html.match(/<script>/g)).toHaveLength(1); // the page's own refresh script only
  });

  it("leaves the section out when every delivery dispatched somewhere", () => {
    expect(renderDashboard([], parseRunsQuery({}), null, [])).not.toContain("Not relayed");
  });
});
