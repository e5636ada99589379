import { z } from "zod";

/**
 * One entry of GitHub's `GET /app/hook/deliveries` ("List deliveries for an app webhook"), reduced
 * to what the relay decides on. Other fields GitHub adds are ignored.
 */
export const hookDeliverySchema = z
  .object({
    id: z.number().int(),
    guid: z.string().min(1),
    delivered_at: z.string().refine((value) => Number.isFinite(Date.parse(value)), { error: "must be a date-time" }),
    redelivery: z.boolean(),
    status: z.string(),
    status_code: z.number().int(),
    event: z.string(),
    action: z.string().nullable().optional(),
  })
  .transform((d) => ({
    id: d.id,
    guid: d.guid,
    deliveredAt: Date.parse(d.delivered_at),
    redelivery: d.redelivery,
    status: d.status,
    statusCode: d.status_code,
    event: d.event,
    action: d.action ?? null,
  }));

export type HookDelivery = z.output<typeof hookDeliverySchema>;

/** GitHub marks a delivery it got a 2xx for `OK`; no answer (refused, timed out) is status code 0. */
export function deliveryFailed(delivery: Pick<HookDelivery, "status" | "statusCode">): boolean {
  return delivery.statusCode === 0 || delivery.statusCode >= 400 || delivery.status !== "OK";
}

/**
 * The deliveries worth asking GitHub to redeliver, one per event (`guid`, the relay's
 * `X-GitHub-Delivery`): those whose every listed attempt failed. Each is the newest failed attempt,
 * in the order listed (newest first). Pure; whether the relay stored it anyway, or already asked,
 * is for the caller to check.
 */
export function pickRedeliveries(deliveries: readonly HookDelivery[]): HookDelivery[] {
  const succeeded = new Set(deliveries.filter((d) => !deliveryFailed(d)).map((d) => d.guid));
  const picked = new Map<string, HookDelivery>();
  for (const delivery of deliveries) {
    if (deliveryFailed(delivery) && !succeeded.has(delivery.guid) && !picked.has(delivery.guid))
      picked.set(delivery.guid, delivery);
  }
  return [...picked.values()];
}
