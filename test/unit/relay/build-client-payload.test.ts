import { buildClientPayload, CLIENT_PAYLOAD_MAX_BYTES, type RelayBlock } from "../../../src/relay/build-client-payload";
import webhookExamples from "@octokit/webhooks-examples";

const relay: RelayBlock = {
  schema: "ci-relay.dispatch.v1",
  request_id: "6f0c5b9e-1111-4222-8333-444455556666",
  level: "L3",
  upstream: { repo: "pytorch/pytorch", sha: "a".repeat(40), ref: "refs/pull/1/head", pr_number: 1 },
  callback_url: "https://relay.example/relay/v1/callback",
  callback_token: "t".repeat(400),
};

const pullRequestOpened = webhookExamples
  .find((w) => w.name === "pull_request")!
  .examples.find((e) => (e as { action?: string }).action === "opened") as unknown as Record<string, unknown>;

const size = (value: unknown) => Buffer.byteLength(JSON.stringify(value), "utf8");
const base = () => structuredClone(pullRequestOpened);

function withBody(body: string) {
  const payload = base();
  (payload.pull_request as Record<string, unknown>).body = body;
  return payload;
}

describe("buildClientPayload", () => {
  it("passes a small webhook through unchanged with the compat fields", () => {
    const payload = base();
    const built = buildClientPayload({ eventType: "pull_request", deliveryId: "d-1", payload, relay });
    expect(built).toEqual({ event_type: "pull_request", delivery_id: "d-1", payload, relay });
    expect(built.payload.relay_trimmed).toBeUndefined();
  });

  it("shortens the PR body first and marks the payload trimmed", () => {
    const payload = withBody("x".repeat(200_000));
    const built = buildClientPayload({ eventType: "pull_request", deliveryId: "d-1", payload, relay });
    expect(size(built)).toBeLessThanOrEqual(CLIENT_PAYLOAD_MAX_BYTES);
    expect(built.payload.relay_trimmed).toBe(true);
    const body = (built.payload.pull_request as { body: string }).body;
    expect(body.endsWith("…[trimmed by ci-relay]")).toBe(true);
    // Only what was needed was cut: most of the 64 KB budget is still the body.
    expect(body.length).toBeGreaterThan(40_000);
    expect((built.payload.pull_request as { title: string }).title).toBe(
      (pullRequestOpened.pull_request as { title: string }).title,
    );
    expect(built.relay).toEqual(relay);
    expect((payload.pull_request as { body: string }).body).toHaveLength(200_000); // input untouched
  });

  it("copes with multi-byte and escape-heavy text", () => {
    const built = buildClientPayload({
      eventType: "pull_request",
      deliveryId: "d",
      payload: withBody('😀"\\\n'.repeat(40_000)),
      relay,
    });
    expect(size(built)).toBeLessThanOrEqual(CLIENT_PAYLOAD_MAX_BYTES);
  });

  it("keeps pull_request when the body's bytes per character vary along it", () => {
    // The quoted, escape-heavy start costs two bytes per character, the prose after it one.
    const body = `${'"'.repeat(40)}\n`.repeat(1_200) + "plain prose ".repeat(3_700);
    const built = buildClientPayload({ eventType: "pull_request", deliveryId: "d", payload: withBody(body), relay });
    expect(size(built)).toBeLessThanOrEqual(CLIENT_PAYLOAD_MAX_BYTES);
    const pr = built.payload.pull_request as { head: { sha: string }; body: string };
    expect(pr.head.sha).toBe((pullRequestOpened.pull_request as { head: { sha: string } }).head.sha);
    expect(pr.body.endsWith("…[trimmed by ci-relay]")).toBe(true);
    expect(Object.keys(built.payload)).toEqual(
      expect.arrayContaining(["action", "number", "pull_request", "repository"]),
    );
  });

  it("trims other large strings and leaves a short PR body alone", () => {
    const payload = withBody("short");
    (payload.repository as Record<string, unknown>).description = "d".repeat(100_000);
    const built = buildClientPayload({ eventType: "pull_request", deliveryId: "d", payload, relay });
    expect(size(built)).toBeLessThanOrEqual(CLIENT_PAYLOAD_MAX_BYTES);
    expect((built.payload.pull_request as { body: string }).body).toBe("short");
  });

  it("drops array elements when the bulk is many small items (a huge push)", () => {
    const commits = Array.from({ length: 5_000 }, (_, i) => ({
      id: String(i).padStart(40, "0"),
      message: "fix",
      added: ["a.py"],
    }));
    const built = buildClientPayload({
      eventType: "push",
      deliveryId: "d",
      payload: { ref: "refs/heads/main", commits },
      relay,
    });
    expect(size(built)).toBeLessThanOrEqual(CLIENT_PAYLOAD_MAX_BYTES);
    expect((built.payload.commits as unknown[]).length).toBeGreaterThan(0);
    expect(built.payload.ref).toBe("refs/heads/main");
  });

  it("never fails, even for a payload of thousands of small keys", () => {
    const payload = Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`k${i}`, i]));
    const built = buildClientPayload({ eventType: "push", deliveryId: "d", payload, relay });
    expect(size(built)).toBeLessThanOrEqual(CLIENT_PAYLOAD_MAX_BYTES);
  });
});
