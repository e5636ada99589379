import { OPERATION_NAMES } from "../broker/operations";
import type { Relay } from "../create-relay";
import { jsonRoute } from "../http/json-route";
import { RELAY_VERSION } from "../version";

/**
 * SPEC §6 `GET /relay/health`: liveness and redacted readiness, no auth. Says which credentials are
 * configured by reference only (`env:PRIVATE_KEY`), never by value.
 */
export function healthRoute(relay: Relay) {
  return jsonRoute(relay.log, async () => {
    const storeOk = await relay.store.ping();
    const config = relay.config.describe();
    const githubConfigured = relay.env.appId !== undefined && Boolean(relay.env.privateKey ?? relay.env.privateKeyPath);
    return {
      status: storeOk ? 200 : 503,
      body: {
        ok: storeOk && config.loaded,
        service: "ci-relay",
        version: RELAY_VERSION,
        github: {
          configured: githubConfigured,
          credentialRef: relay.env.privateKeyPath ? "env:PRIVATE_KEY_PATH" : "env:PRIVATE_KEY",
          valuesPrinted: false,
        },
        store: { kind: relay.store.kind, ok: storeOk },
        config: { kind: config.kind, location: config.location, loaded: config.loaded, form: config.form },
        capabilities: ["relay.dispatch", "relay.queue", "relay.callback", "relay.check-runs", ...(relay.env.hudUrl ? ["relay.hud"] : []), ...OPERATION_NAMES, "github.pr.preflight"],
      },
    };
  });
}
