import { HUD_TOKEN, startHudSink } from "../support/callback-world";
import { startFakeGitHub } from "../support/fake-github";
import { startOidcIssuer } from "../support/oidc-issuer";
import { residentMiB } from "../support/process-memory";
import { startRelayFleet } from "../support/relay-fleet";
import { formatTrafficReport, RelayTraffic } from "../support/relay-traffic";
import { cleanupRedisPrefix } from "../support/server-harness";

/**
 * `npm run soak`: a relay under a steady stream of webhooks and the callbacks of every dispatch they
 * cause, for 60 s; prints the relay's RSS every 5 s, then lost and duplicate dispatches and HUD rows.
 * Options: --seconds N, --rate deliveries per second, --downstreams N (GitHub paces writes to about
 * one a second per installation, and each downstream is its own installation).
 * Exits 1 when anything was lost or doubled, or the relay exited.
 */

function option(name: string): string | undefined {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? undefined : process.argv[at + 1];
}

const UPSTREAM = "pytorch/pytorch";
const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function main(): Promise<void> {
  const seconds = Number(option("seconds") ?? 60);
  const rate = Number(option("rate") ?? 0.8);
  const downstreams = Array.from({ length: Number(option("downstreams") ?? 6) }, (_, i) => `vendor${i}/backend`);
  const github = await startFakeGitHub();
  github.addInstallation({ id: 11, account: "pytorch", repos: [UPSTREAM] });
  downstreams.forEach((repo, i) => github.addInstallation({ id: 21 + i, account: repo.split("/")[0], repos: [repo] }));
  const issuer = await startOidcIssuer();
  const hud = await startHudSink();
  const fleet = await startRelayFleet({
    size: 1,
    fakeGitHub: github,
    configYaml: `version: 1\nupstreams: [${UPSTREAM}]\ndownstreams:\n${downstreams.map((repo) => `  - { repo: ${repo}, level: L2 }`).join("\n")}\n`,
    env: {
      RELAY_TOKEN_SECRET: "soak-suite-relay-token-secret-0123456789ab",
      OIDC_ISSUER: issuer.url,
      HUD_URL: hud.url,
      HUD_TOKEN,
      OUTBOX_DRAIN_INTERVAL_SECONDS: "1",
    },
  });
  const relay = fleet.relays[0];
  if (!relay) throw new Error("the relay did not start");
  console.log(
    `soak: ${seconds} s, ${rate} deliveries/s to ${downstreams.length} L2 downstreams, each dispatch called back twice`,
  );

  const traffic = new RelayTraffic({
    github,
    issuer,
    hud,
    pick: () => fleet.pick(),
    upstream: UPSTREAM,
    upstreamInstallation: 11,
    downstreams,
  });
  traffic.startCallbacks();
  const started = Date.now();
  const rss: string[] = [];
  const sample = () =>
    rss.push(`${Math.round((Date.now() - started) / 1000)}s ${residentMiB(fleet.relays[0]?.pid ?? 0) ?? "?"} MiB`);
  sample();
  const sampler = setInterval(() => {
    sample();
    console.log(`  rss ${rss[rss.length - 1]}`);
  }, 5_000);
  for (let sent = 0; Date.now() - started < seconds * 1000; sent++) {
    void traffic.sendDelivery();
    // Steady: each delivery at its own slot, however long the last one took.
    await settle(Math.max(0, started + ((sent + 1) * 1000) / rate - Date.now()));
  }
  await traffic.drained();
  const settled = await traffic.settled(120_000);
  await settle(3_000);
  clearInterval(sampler);
  sample();
  traffic.stopCallbacks();
  const report = traffic.report();
  for (const line of formatTrafficReport(report)) console.log(line);
  console.log(`rss over time: ${rss.join(", ")}`);
  console.log(`relay exits nobody asked for: ${fleet.unexpectedExits.length}`);
  const bad =
    report.dispatches.lost +
    report.dispatches.duplicates +
    report.hudRows.lost +
    report.hudRows.duplicates +
    fleet.unexpectedExits.length;
  console.log(
    `soak: lost ${report.dispatches.lost + report.hudRows.lost}, duplicates ${report.dispatches.duplicates + report.hudRows.duplicates}${settled ? "" : " (not settled within 120 s)"}`,
  );

  await fleet.stop();
  await cleanupRedisPrefix(fleet.redisPrefix);
  await Promise.all([github.close(), issuer.close(), hud.close()]);
  process.exitCode = bad === 0 && settled ? 0 : 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
