import type { Server } from "node:http";
import type { ConfigSource } from "../config/config-source";
import type { OutboxRunner } from "../outbox/outbox-runner";
import type { Store } from "../store/store";

export interface RunningServer {
  /** what shutting down stops, and the store it closes last */
  relay: { config: Pick<ConfigSource, "close">; runner: Pick<OutboxRunner, "stop">; store: Pick<Store, "close"> };
  server: Server;
  /** the smee.io proxy, when WEBHOOK_PROXY_URL is set */
  proxy?: { close(): void };
  /** the background loops (timeout sweeps, missed-delivery checks): each stops and waits for its round */
  stopLoops: Array<() => Promise<void>>;
}

/** Requests in flight get this long to be answered before their connections are closed. */
const HTTP_DRAIN_MS = 2_000;

/**
 * A server's SIGTERM: takes nothing new at once (connections, outbox claims, sweeps, config
 * retries), lets what is in flight finish or hands it back (OutboxRunner.stop aborts GitHub waits
 * and releases leases), and closes the store last, since everything before may still write to it.
 * Bounded by the runner's grace and abort, the HTTP drain and the store's command timeout: a few
 * seconds, whatever GitHub or Redis are doing.
 */
export async function shutDown({ relay, server, proxy, stopLoops }: RunningServer): Promise<void> {
  proxy?.close();
  relay.config.close();
  await Promise.all([relay.runner.stop(), ...stopLoops.map((stop) => stop()), closeHttp(server)]);
  await relay.store.close();
}

function closeHttp(server: Server): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => server.closeAllConnections(), HTTP_DRAIN_MS);
    server.close(() => {
      clearTimeout(force);
      resolve();
    });
    // Keep-alive connections with no request under way would otherwise hold close() open.
    server.closeIdleConnections();
  });
}
