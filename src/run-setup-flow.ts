import type { Logger } from "pino";
import { Probot, Server } from "probot";
// The one Probot internal the relay imports, and only here: Probot exports no setup flow of its own
// (`probot run` reaches it through the same module), and re-implementing the manifest flow (the
// registration form, the code exchange, writing .env, the GitHub Enterprise variants) would be a
// worse copy. A Probot upgrade that moves it fails this file's compile, nowhere else.
import { setupAppFactory } from "probot/lib/apps/setup";
import { EnvError, type RelayEnv } from "./config/env";

/**
 * `npm start` with no App credential anywhere, environment or `.env` (SPEC §1): Probot's setup flow
 * alone, which registers the App from app.yml and writes its credentials to `.env`; the next start
 * reads them and is the relay, with all its guards. None of the relay runs here, and with no
 * credentials there is nothing it could guard. Production has no browser to set an App up from.
 */
export async function runSetupFlow(env: RelayEnv, log: Logger, production: boolean): Promise<void> {
  if (production) {
    throw new EnvError([
      {
        variable: "APP_ID",
        message:
          "required: with NODE_ENV=production there is no setup flow; set APP_ID, PRIVATE_KEY and WEBHOOK_SECRET",
      },
    ]);
  }
  const server = new Server({
    host: env.host,
    port: env.port,
    webhookProxy: env.webhookProxyUrl,
    log: log.child({ name: "server" }),
    // Probot's own setup workaround (probot#1512): its Server wants an app id and key it never uses here.
    Probot: Probot.defaults({ appId: 1, privateKey: "unused in setup mode", log: log.child({ name: "probot" }) }),
  });
  await server.load(setupAppFactory(env.host, env.port));
  await server.start();
}
