import { nightlyBodySchema, periodicEventOf } from "../../../../src/callback/nightly/nightly-body";

const sha = "AbCdEf0123".repeat(4);
const body = (overrides: Record<string, unknown> = {}) => ({
  event_type: "nightly",
  delivery_id: sha,
  workflow: { status: "completed", conclusion: "success", run_id: "1", job_name: "build" },
  ...overrides,
});

describe("nightly report body (SPEC §4)", () => {
  it("takes CRCR's nightly body, with the SHA in lower case, and no relay token", () => {
    const parsed = nightlyBodySchema.parse(body());
    expect(parsed).toMatchObject({
      event_type: "nightly",
      delivery_id: sha.toLowerCase(),
      workflow: { status: "completed", run_attempt: "1" },
    });
    expect(nightlyBodySchema.parse(body({ event_type: "periodic", delivery_id: "f".repeat(64) })).delivery_id).toBe(
      "f".repeat(64),
    );
  });

  it.each([
    ["a branch name", "main"],
    ["an abbreviated SHA", sha.slice(0, 12)],
    ["a SHA with a ref after it", `${sha}:refs/heads/main`],
    ["a SHA of 41 digits", `${sha}0`],
    ["no delivery_id", undefined],
  ])("refuses %s for delivery_id", (_name, deliveryId) => {
    expect(nightlyBodySchema.safeParse(body({ delivery_id: deliveryId })).success).toBe(false);
  });

  it("chooses the nightly path by event_type alone", () => {
    expect(periodicEventOf(body())).toBe("nightly");
    expect(periodicEventOf(body({ event_type: "periodic" }))).toBe("periodic");
    for (const other of [
      body({ event_type: "pull_request" }),
      body({ event_type: "Nightly" }),
      { workflow: {} },
      [],
      null,
      "nightly",
    ]) {
      expect(periodicEventOf(other)).toBeNull();
    }
  });
});
