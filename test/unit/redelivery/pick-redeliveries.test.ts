import {
  deliveryFailed,
  hookDeliverySchema,
  pickRedeliveries,
  type HookDelivery,
} from "../../../src/redelivery/pick-redeliveries";

let id = 100;
const delivery = (
  guid: string,
  statusCode: number,
  status = statusCode >= 200 && statusCode < 300 ? "OK" : "failed",
  redelivery = false,
): HookDelivery => ({
  id: id++,
  guid,
  deliveredAt: Date.parse("2026-01-01T00:00:00Z") + id * 1000,
  redelivery,
  status,
  statusCode,
  event: "pull_request",
  action: "opened",
});

describe("missed deliveries (SPEC §3)", () => {
  test("a delivery failed when GitHub got no answer, an error status, or anything but OK", () => {
    expect(deliveryFailed({ statusCode: 0, status: "failed to connect to host" })).toBe(true);
    expect(deliveryFailed({ statusCode: 503, status: "Invalid HTTP Response: 503" })).toBe(true);
    expect(deliveryFailed({ statusCode: 400, status: "Invalid HTTP Response: 400" })).toBe(true);
    expect(deliveryFailed({ statusCode: 200, status: "timed out" })).toBe(true);
    expect(deliveryFailed({ statusCode: 200, status: "OK" })).toBe(false);
    expect(deliveryFailed({ statusCode: 202, status: "OK" })).toBe(false);
  });

  test("picks each event whose every listed attempt failed, once, as its newest failed attempt", () => {
    const newest = delivery("a", 503, "failed", true);
    const listed = [delivery("c", 200), newest, delivery("b", 0), delivery("a", 0), delivery("c", 502)];
    expect(pickRedeliveries(listed).map((d) => [d.guid, d.id])).toEqual([
      ["a", newest.id],
      ["b", listed[2].id],
    ]);
  });

  test("reads GitHub's list entries, ignoring fields it does not use", () => {
    const parsed = hookDeliverySchema.parse({
      id: 12077215967,
      guid: "0b989ba4-242f-11e5-81e1-c7b6966d2516",
      delivered_at: "2019-06-03T00:57:16Z",
      redelivery: false,
      duration: 0.27,
      status: "OK",
      status_code: 200,
      event: "issues",
      action: "opened",
      installation_id: 123,
      repository_id: 456,
      throttled_at: null,
    });
    expect(parsed).toEqual({
      id: 12077215967,
      guid: "0b989ba4-242f-11e5-81e1-c7b6966d2516",
      deliveredAt: Date.parse("2019-06-03T00:57:16Z"),
      redelivery: false,
      status: "OK",
      statusCode: 200,
      event: "issues",
      action: "opened",
    });
    expect(hookDeliverySchema.safeParse({ id: 1, guid: "", delivered_at: "x" }).success).toBe(false);
  });
});
