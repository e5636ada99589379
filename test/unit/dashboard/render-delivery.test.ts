import { createHash } from "node:crypto";
import type { DeliveryView } from "../../../src/dashboard/delivery-view";
import { DELIVERY_CSP, renderDelivery } from "../../../src/dashboard/render-delivery";

const delivery: DeliveryView = {
  deliveryId: "58474f00-b361-11eb-836d-0e4f3503ccbe",
  event: "pull_request",
  action: "opened",
  receivedAt: "2026-12-01T09:30:00.000Z",
  eventAt: "2026-12-01T09:29:59.000Z",
  upstream: { repo: "pytorch/pytorch", sha: "a".repeat(40), ref: "refs/pull/7/head", pr_number: 7 },
  downstreams: [
    {
      repo: "evil/<script>alert(1)</script>",
      level: "L2",
      transport: "dispatch",
      outcome: "retrying",
      reason: "HTTP 502 <b>",
      detail: null,
      dispatchId: "r1",
      attempts: 2,
    },
    {
      repo: "vendor/backend",
      level: "L3",
      transport: "dispatch",
      outcome: "skipped",
      reason: "untrusted-author",
      detail: "waiting for the label x",
      dispatchId: null,
      attempts: null,
    },
  ],
};

describe("renderDelivery", () => {
  it("shows every downstream's outcome as a word and its reason, all escaped", () => {
    const html = renderDelivery(delivery);
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain("evil/&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(html).toContain("HTTP 502 &lt;b&gt;");
    expect(html).toMatch(/class="outcome retrying">retrying<\/span> \(2 attempts\)/);
    expect(html).toContain("untrusted-author<br>waiting for the label x");
    expect(html).toContain('href="../v1/deliveries/58474f00-b361-11eb-836d-0e4f3503ccbe"');
  });

  it("allows exactly its own style by hash, and no script at all", () => {
    const style = /<style>([\s\S]*?)<\/style>/.exec(renderDelivery(delivery))?.[1] ?? "";
    expect(DELIVERY_CSP).toContain(`style-src 'sha256-${createHash("sha256").update(style).digest("base64")}';`);
    expect(DELIVERY_CSP).toContain("default-src 'none'");
    expect(DELIVERY_CSP).not.toMatch(/unsafe-inline|script-src/);
  });
});
