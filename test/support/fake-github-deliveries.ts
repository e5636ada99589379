import { randomUUID } from "node:crypto";
import { sendWebhook, TEST_WEBHOOK_SECRET } from "./webhooks";

/**
 * The App's webhook as GitHub runs it: deliveries the fake sends to the App's webhook URL, each
 * recorded as GitHub's "List deliveries for an app webhook" shows it (id, guid, delivered_at,
 * redelivery, status, status_code, event, action, installation_id, repository_id), and
 * redeliveries on request (same guid and body, a new id, `redelivery: true`). GitHub itself never
 * retries a failed delivery; neither does this.
 */

export interface HookDelivery {
  id: number;
  guid: string;
  deliveredAt: string;
  redelivery: boolean;
  duration: number;
  /** `OK` for a 2xx; otherwise what went wrong */
  status: string;
  /** 0 when no answer came */
  statusCode: number;
  event: string;
  action: string | null;
  installationId: number | null;
  repositoryId: number | null;
  /** the body sent, kept for redeliveries */
  rawBody: string;
}

/** The fields of one entry of `GET /app/hook/deliveries`. */
export function hookDeliveryJson(delivery: HookDelivery) {
  return {
    id: delivery.id,
    guid: delivery.guid,
    delivered_at: delivery.deliveredAt,
    redelivery: delivery.redelivery,
    duration: delivery.duration,
    status: delivery.status,
    status_code: delivery.statusCode,
    event: delivery.event,
    action: delivery.action,
    installation_id: delivery.installationId,
    repository_id: delivery.repositoryId,
    throttled_at: null,
  };
}

interface EventShape {
  action?: unknown;
  installation?: { id?: unknown };
  repository?: { id?: unknown };
}

export class FakeHookDeliveries {
  /** oldest first, as sent */
  readonly deliveries: HookDelivery[] = [];
  /** ids of deliveries someone asked to redeliver (`POST .../attempts`), in order */
  readonly redeliveryRequests: number[] = [];
  private target: { baseUrl: string; secret: string } | null = null;
  private readonly unreachable = new Map<string, number>();
  private readonly sending = new Set<Promise<HookDelivery>>();
  private nextId = 12_000_000_001;

  /** Where the App's webhook points (the relay's base URL) and the secret it signs with. */
  setTarget(baseUrl: string, secret = TEST_WEBHOOK_SECRET): void {
    this.target = { baseUrl, secret };
  }

  /** The next `times` attempts to deliver `guid` fail to connect, as if the relay were unreachable. */
  failNext(guid: string, times = 1): void {
    this.unreachable.set(guid, (this.unreachable.get(guid) ?? 0) + times);
  }

  /** Sends an event to the webhook now and records the attempt; resolves with the record. */
  deliver(event: string, payload: unknown, guid: string = randomUUID()): Promise<HookDelivery> {
    return this.track(this.attempt(event, JSON.stringify(payload), guid, false));
  }

  /** Schedules a redelivery of delivery `id` as GitHub does (answering 202 first); false if unknown. */
  redeliver(id: number): boolean {
    const original = this.deliveries.find((d) => d.id === id);
    if (!original) return false;
    this.redeliveryRequests.push(id);
    void this.track(
      new Promise<void>((resolve) => setImmediate(resolve)).then(() =>
        this.attempt(original.event, original.rawBody, original.guid, true),
      ),
    );
    return true;
  }

  /** Newest first, as GitHub lists them. */
  newestFirst(): HookDelivery[] {
    return [...this.deliveries].sort((a, b) => b.id - a.id);
  }

  /** Resolves once every delivery in flight has been answered. */
  async settle(): Promise<void> {
    while (this.sending.size > 0) await Promise.allSettled([...this.sending]);
  }

  private track(sending: Promise<HookDelivery>): Promise<HookDelivery> {
    this.sending.add(sending);
    void sending.finally(() => this.sending.delete(sending)).catch(() => undefined);
    return sending;
  }

  private async attempt(event: string, rawBody: string, guid: string, redelivery: boolean): Promise<HookDelivery> {
    const started = Date.now();
    let status = "failed to connect to host";
    let statusCode = 0;
    const unreachable = this.unreachable.get(guid) ?? 0;
    if (unreachable > 0) {
      this.unreachable.set(guid, unreachable - 1);
    } else if (this.target) {
      try {
        const answer = await sendWebhook(this.target.baseUrl, {
          event,
          rawBody,
          deliveryId: guid,
          secret: this.target.secret,
        });
        statusCode = answer.status;
        status = answer.status >= 200 && answer.status < 300 ? "OK" : `Invalid HTTP Response: ${answer.status}`;
      } catch {
        // connection refused or reset: GitHub records no status code
      }
    }
    const shape = JSON.parse(rawBody) as EventShape;
    const delivery: HookDelivery = {
      id: this.nextId++,
      guid,
      deliveredAt: new Date(started).toISOString().replace(/\.\d{3}Z$/, "Z"),
      redelivery,
      duration: (Date.now() - started) / 1000,
      status,
      statusCode,
      event,
      action: typeof shape.action === "string" ? shape.action : null,
      installationId: typeof shape.installation?.id === "number" ? shape.installation.id : null,
      repositoryId: typeof shape.repository?.id === "number" ? shape.repository.id : null,
      rawBody,
    };
    this.deliveries.push(delivery);
    return delivery;
  }
}
