import { startCallbackWorld, waitUntil, type CallbackWorld } from "../support/callback-world";
import { clientPayloadOf } from "../support/fake-github";
import { pushEvent, randomSha, sendWebhook } from "../support/webhooks";

const CONFIG = `
version: 1
upstreams: [pytorch/pytorch]
push:
  branches: [main]
  tags: ["ciflow/*/*"]
downstreams:
  - { repo: Vendor/Gate, level: L4 }
  - { repo: Ascend/pytorch, level: L3, device: npu }
  - { repo: Other/Npu, level: L3, device: other }
`;
const UPSTREAM_INSTALLATION = 11;
const REPOS = ["Vendor/Gate", "Ascend/pytorch", "Other/Npu"];

/**
 * SPEC §3 ciflow tags (*compat*), through the real server: PyTorch asks for more CI on PR #N by pushing
 * `ciflow/<name>/<N>`; the relay dispatches it as a push for PR #N on the tagged commit.
 */
describe("ciflow tags end to end (real server, fake GitHub)", () => {
  let world: CallbackWorld;
  beforeAll(async () => {
    world = await startCallbackWorld(CONFIG, REPOS);
  });
  afterAll(async () => world?.close());

  const pushTag = async (ref: string, sha: string, deliveryId: string, after = sha) => {
    const payload = pushEvent({
      repo: "pytorch/pytorch",
      installationId: UPSTREAM_INSTALLATION,
      sender: "pytorchbot",
      ref,
      after,
    });
    const answer = await sendWebhook(world.relay.baseUrl, { event: "push", payload, deliveryId });
    expect(answer.status).toBe(200);
  };
  const dispatchesOf = (deliveryId: string) =>
    world.github.requests.filter(
      (r) => r.path.endsWith("/dispatches") && clientPayloadOf(r)?.delivery_id === deliveryId,
    );

  it("relays ciflow/trunk/123 as a push for PR #123 on the tagged commit, with the L4 check run on that commit", async () => {
    const sha = randomSha();
    // PR #123 carries the npu label: the L3 downstream of that device gets check runs too, the other not.
    world.github.setPull("pytorch/pytorch", { number: 123, labels: ["ciflow/relay/npu"], head: { sha } });
    await pushTag("refs/tags/ciflow/trunk/123", sha, "ciflow-123");

    await waitUntil(
      () => dispatchesOf("ciflow-123").filter((r) => r.status === 204).length === 3,
      30_000,
      "three dispatches",
    );
    for (const request of dispatchesOf("ciflow-123")) {
      const clientPayload = clientPayloadOf(request);
      expect(clientPayload?.event_type).toBe("push");
      expect(clientPayload?.relay.upstream).toEqual({
        repo: "pytorch/pytorch",
        sha,
        ref: "refs/tags/ciflow/trunk/123",
        pr_number: 123,
      });
    }
    const checks = () => world.github.checkRuns("pytorch/pytorch").filter((c) => c.headSha === sha);
    await waitUntil(() => checks().some((c) => c.name === "relay/Vendor/Gate"), 30_000, "the L4 check run");
    await waitUntil(() => checks().some((c) => c.name === "relay/Ascend/pytorch"), 30_000, "the labelled L3 check run");
    expect(checks().find((c) => c.name === "relay/Vendor/Gate")).toMatchObject({ status: "queued" });
    // The label lookup ran after the webhook was answered, with an issues:read token for the upstream only.
    expect(world.github.requestsTo("GET", "/repos/pytorch/pytorch/issues/123").length).toBeGreaterThanOrEqual(1);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(
      checks()
        .map((c) => c.name)
        .sort(),
    ).toEqual(["relay/Ascend/pytorch", "relay/Vendor/Gate"]);
  });

  it("recovers the commit an annotated ciflow tag points at", async () => {
    const sha = randomSha();
    const payload = pushEvent({
      repo: "pytorch/pytorch",
      installationId: UPSTREAM_INSTALLATION,
      ref: "refs/tags/ciflow/inductor/77",
      after: randomSha(),
    });
    payload.head_commit = { ...(payload.head_commit as NonNullable<typeof payload.head_commit>), id: sha };
    world.github.setPull("pytorch/pytorch", { number: 77, labels: [] });
    expect(
      (await sendWebhook(world.relay.baseUrl, { event: "push", payload, deliveryId: "ciflow-annotated" })).status,
    ).toBe(200);
    await waitUntil(() => dispatchesOf("ciflow-annotated").length >= 1, 30_000, "a dispatch");
    expect(clientPayloadOf(dispatchesOf("ciflow-annotated")[0])?.relay.upstream).toMatchObject({ sha, pr_number: 77 });
  });

  it("relays neither a tag push that matches no push.tags glob nor a tag deletion", async () => {
    await pushTag("refs/tags/v2.6.0", randomSha(), "tag-not-relayed");
    await pushTag("refs/tags/ciflow/trunk/124", "0".repeat(40), "tag-deleted");
    // A relayed push after them: once it is dispatched, the two before it were long decided.
    world.github.setPull("pytorch/pytorch", { number: 125, labels: [] });
    await pushTag("refs/tags/ciflow/trunk/125", randomSha(), "tag-relayed");
    await waitUntil(() => dispatchesOf("tag-relayed").length === 3, 30_000, "the later push's dispatches");
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(dispatchesOf("tag-not-relayed")).toEqual([]);
    expect(dispatchesOf("tag-deleted")).toEqual([]);
  });
});
