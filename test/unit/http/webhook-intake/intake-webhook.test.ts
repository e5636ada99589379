import { randomUUID } from "node:crypto";
import { expect } from "@jest/globals";
import pino from "pino";
import { Probot } from "probot";
import { RelayError } from "../../../../src/errors/failure-kinds";
import {
  intakeWebhook,
  type WebhookReceiver,
  type WebhookRequest,
} from "../../../../src/http/webhook-intake/intake-webhook";
import { TEST_APP_ID } from "../../../support/app-key";
import { sign, TEST_WEBHOOK_SECRET } from "../../../support/webhooks";

/** A delivery as the runtimes hand it over: lower-case headers and the body text. */
function delivery(body: string, headers: Record<string, string> = {}): WebhookRequest & { deliveryId: string } {
  const deliveryId = randomUUID();
  return {
    deliveryId,
    headers: {
      "content-type": "application/json",
      "x-github-event": "push",
      "x-github-delivery": deliveryId,
      "x-hub-signature-256": sign(body, TEST_WEBHOOK_SECRET),
      ...headers,
    },
    readBody: async () => Buffer.from(body, "utf8"),
  };
}

describe("intakeWebhook", () => {
  const log = pino({ level: "silent" });
  // Probot verifies and routes; its App credentials are never used here (no handler calls GitHub).
  const probot = new Probot({ appId: TEST_APP_ID, privateKey: "unused", secret: TEST_WEBHOOK_SECRET, log });
  const received: string[] = [];
  probot.webhooks.on("push", ({ id }) => void received.push(id));
  const ready: WebhookReceiver = { webhooks: probot.webhooks, log };

  beforeEach(() => {
    received.length = 0;
  });

  it("hands a signed delivery to the handlers, answers 200 with its id, and runs afterAccepted before answering", async () => {
    const request = delivery('{"ref":"refs/heads/main"}');
    const steps: string[] = [];
    const answer = await intakeWebhook(request, async () => ({
      ...ready,
      afterAccepted: async () => void steps.push(`drained after ${received.join()}`),
    }));
    expect(answer).toEqual({ status: 200, body: { ok: true, requestId: request.deliveryId } });
    expect(steps).toEqual([`drained after ${request.deliveryId}`]);
  });

  it("refuses a delivery the checks refuse without asking for the receiver", async () => {
    const receiver = jest.fn(async () => ready);
    const wrongType = await intakeWebhook(delivery("{}", { "content-type": "text/plain" }), receiver);
    const unread = await intakeWebhook(
      { ...delivery("{}"), readBody: () => Promise.reject(new RelayError("payload-too-large", "over")) },
      receiver,
    );
    expect([wrongType.status, unread.status]).toEqual([400, 413]);
    expect(wrongType.body).toMatchObject({
      failureKind: "validation-failed",
      degradedReason: "unsupported-content-type",
    });
    expect(unread.body).toMatchObject({
      failureKind: "payload-too-large",
      message: expect.stringContaining("webhook payload exceeds"),
    });
    expect(receiver).not.toHaveBeenCalled();
  });

  it("answers a receiver that is not ready with its §5 body under the delivery's id", async () => {
    const request = delivery("{}");
    const answer = await intakeWebhook(request, () =>
      Promise.reject(new RelayError("store-unavailable", "relay not ready; redeliver later")),
    );
    expect(answer.status).toBe(503);
    expect(answer.body).toMatchObject({
      requestId: request.deliveryId,
      failureKind: "store-unavailable",
      retryable: true,
      message: "relay not ready; redeliver later",
    });
    expect(received).toEqual([]);
  });

  it("refuses a forged signature, runs no handler and nothing after", async () => {
    const afterAccepted = jest.fn(async () => undefined);
    const answer = await intakeWebhook(
      delivery("{}", { "x-hub-signature-256": sign("{}", "another-secret") }),
      async () => ({ ...ready, afterAccepted }),
    );
    expect(answer.status).toBe(400);
    expect(received).toEqual([]);
    expect(afterAccepted).not.toHaveBeenCalled();
  });

  it("gives a delivery without an id a fresh request id", async () => {
    const answer = await intakeWebhook(delivery("{}", { "x-github-delivery": "" }), async () => ready);
    expect(answer.body).toMatchObject({
      failureKind: "validation-failed",
      requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
  });
});
