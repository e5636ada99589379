import type { Logger } from "pino";

export interface WebhookProxyOptions {
  /** WEBHOOK_PROXY_URL: the smee.io channel */
  url: string;
  port: number;
  path: string;
  log: Logger;
}

/**
 * Local development (WEBHOOK_PROXY_URL): forwards the smee.io channel's deliveries to this server's
 * webhook path, as Probot's own helper does, with smee-client, a dependency of ours. smee-client is
 * ESM only: this CommonJS build loads it through require(esm), which Node has unflagged from 20.19
 * (hence `engines`), and only here, so a relay without a proxy never loads it. A proxy that cannot
 * start is a warning, not a failed start: the relay serves either way.
 */
export async function startWebhookProxy({
  url,
  port,
  path,
  log,
}: WebhookProxyOptions): Promise<{ close(): void } | undefined> {
  try {
    const { default: SmeeClient } = await import("smee-client");
    return await new SmeeClient({ source: url, target: `http://localhost:${port}${path}`, logger: log }).start();
  } catch (error) {
    log.warn(
      { err: error },
      "WEBHOOK_PROXY_URL: the smee proxy did not start; webhooks reach this server only directly",
    );
    return undefined;
  }
}
