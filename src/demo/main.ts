/**
 * demo/ owns `npm run demo`: the real relay against a stand-in GitHub, a local OIDC issuer and simulated
 * downstreams, playing sample upstream deliveries so the dashboard fills without any GitHub account.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DemoGitHub } from "./demo-github";
import { DemoOidcIssuer } from "./demo-oidc-issuer";
import { DEMO_APP, DEMO_RELAY_CONFIG } from "./demo-world";
import { DownstreamSimulator } from "./downstream-simulator";
import { SAMPLE_DELIVERIES, sendDelivery } from "./sample-deliveries";

/**
 * `npm run demo`: the relay as `npm start` runs it (lib/main.js, memory store), wired to a stand-in
 * GitHub, a local OIDC issuer and simulated downstream runs, then fed a few upstream webhooks. No
 * GitHub App, no network: every server listens on 127.0.0.1. Runs until Ctrl-C.
 */

const CALLBACK_AUDIENCE = "ci-relay-callback";
const READY_TIMEOUT_MS = 60_000;
const say = (line: string) => process.stdout.write(`${line}\n`);

async function waitUntilHealthy(baseUrl: string, relay: ChildProcess): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (relay.exitCode !== null) throw new Error(`the relay exited with code ${relay.exitCode} before it was ready`);
    const healthy = await fetch(`${baseUrl}/relay/health`, { signal: AbortSignal.timeout(1_000) }).then(
      (response) => response.ok,
      () => false,
    );
    if (healthy) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the relay did not answer ${baseUrl}/relay/health within ${READY_TIMEOUT_MS / 1000} s`);
}

async function main(): Promise<void> {
  const port = Number(process.env.PORT || 3000);
  const jobMs = Number(process.env.DEMO_JOB_MS || 1_500);
  const github = new DemoGitHub();
  const issuer = new DemoOidcIssuer();
  await Promise.all([github.start(), issuer.start()]);
  const simulator = new DownstreamSimulator({ issuer, callbackAudience: CALLBACK_AUDIENCE, jobMs, log: say });
  github.onDispatch((dispatch) => simulator.take(dispatch));
  github.onCheckRunConcluded((run) => say(`check run on ${run.repo}: ${run.name} -> ${run.conclusion}`));
  github.onUnserved((endpoint) => say(`stand-in GitHub: no answer for ${endpoint} (404)`));

  const dir = mkdtempSync(join(tmpdir(), "ci-relay-demo-"));
  const configPath = join(dir, "relay.yml");
  writeFileSync(configPath, DEMO_RELAY_CONFIG);
  // A throwaway app key and secrets, made for this run and gone with it.
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const secret = randomBytes(24).toString("hex");
  const baseUrl = `http://127.0.0.1:${port}`;
  const relay = spawn(process.execPath, [join(__dirname, "..", "main.js")], {
    // In the demo's own folder: a developer's .env (real app, Redis, smee channel) must not reach it.
    cwd: dir,
    stdio: ["ignore", "inherit", "inherit"],
    env: {
      PATH: process.env.PATH,
      APP_ID: String(DEMO_APP.id),
      PRIVATE_KEY: privateKey.export({ type: "pkcs1", format: "pem" }).toString(),
      WEBHOOK_SECRET: secret,
      GHE_HOST: github.host,
      GHE_PROTOCOL: "http",
      PORT: String(port),
      HOST: "127.0.0.1",
      RELAY_CONFIG: configPath,
      RELAY_PUBLIC_URL: baseUrl,
      RELAY_TOKEN_SECRET: randomBytes(32).toString("hex"),
      OIDC_ISSUER: issuer.url,
      CALLBACK_AUDIENCE,
      OUTBOX_DRAIN_INTERVAL_SECONDS: "1",
      // There is no GitHub to ask for missed deliveries.
      REDELIVER_MISSED: "false",
      LOG_LEVEL: process.env.LOG_LEVEL || "error",
    },
  });
  let stopping = false;
  const relayExited = new Promise<void>((resolve) => relay.once("exit", () => resolve()));
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    // The relay finishes its shutdown before the servers it talks to go away.
    relay.kill("SIGTERM");
    const killer = setTimeout(() => relay.kill("SIGKILL"), 10_000);
    await relayExited;
    clearTimeout(killer);
    await Promise.all([github.close(), issuer.close()]);
    rmSync(dir, { recursive: true, force: true });
    process.exit(code);
  };
  process.once("SIGINT", () => void stop(0));
  process.once("SIGTERM", () => void stop(0));
  relay.once("exit", (code) => {
    if (!stopping) say(`the relay stopped (code ${code})`);
    void stop(code === 0 ? 0 : 1);
  });

  try {
    await waitUntilHealthy(baseUrl, relay);
    say(`ci-relay demo: relay on ${baseUrl}, stand-in GitHub on http://${github.host}, OIDC issuer on ${issuer.url}`);
    for (const delivery of SAMPLE_DELIVERIES) {
      const status = await sendDelivery(`${baseUrl}/api/github/webhooks`, secret, delivery);
      say(`webhook: ${delivery.title} -> ${status}`);
    }
    say("");
    say(`dashboard: ${baseUrl}/relay/   (results appear within seconds; Ctrl-C stops the demo)`);
  } catch (error) {
    say(`ci-relay demo: ${error instanceof Error ? error.message : String(error)}`);
    await stop(1);
  }
}

void main();
