import { forbiddenAnswers, formatStats, fuzzEndpoint, type EndpointStats } from "../support/fuzz-driver";
import { FUZZ_ENDPOINTS, type FuzzEndpoint } from "../support/fuzz-requests";
import { startFuzzWorld } from "../support/fuzz-world";

/**
 * `npm run fuzz`: at least 10,000 generated requests for every endpoint against the real server.
 * Options: --count N (per endpoint), --seed S (replays a run), --concurrency C, --only a,b.
 * Exits 1 when any answer was a 5xx, a hang, an HTML page or a stack trace, or the relay died.
 */

function option(name: string): string | undefined {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? undefined : process.argv[at + 1];
}

async function main(): Promise<void> {
  const count = Number(option("count") ?? 10_000);
  const seed = Number(option("seed") ?? Date.now() % 1_000_000_000);
  const concurrency = Number(option("concurrency") ?? 8);
  const only = option("only")?.split(",");
  const endpoints = FUZZ_ENDPOINTS.filter((endpoint) => only === undefined || only.includes(endpoint));
  console.log(
    `fuzz: ${count} requests per endpoint, seed ${seed} (replay with --seed ${seed}), concurrency ${concurrency}`,
  );

  const fuzz = await startFuzzWorld({ logLevel: "error" });
  const results: EndpointStats[] = [];
  try {
    for (const [i, endpoint] of endpoints.entries()) {
      const started = Date.now();
      const stats = await fuzzEndpoint(fuzz.target, endpoint as FuzzEndpoint, fuzz.templates, {
        count,
        seed: seed + i * 7_919,
        concurrency,
      });
      results.push(stats);
      console.log(`${formatStats(stats)} (${Math.round((Date.now() - started) / 1000)} s)`);
      for (const example of stats.examples) console.log(`    e.g. ${example}`);
      if (stats.crashed) break;
    }
  } finally {
    await fuzz.close();
  }
  const total = results.reduce((sum, stats) => sum + stats.requests, 0);
  const forbidden = results.reduce((sum, stats) => sum + forbiddenAnswers(stats) + stats.offRouteHtml, 0);
  console.log(
    `fuzz: ${total} requests, ${forbidden} forbidden answers (5xx, hangs, HTML, stack traces, unsigned webhooks accepted, crashes)`,
  );
  process.exitCode = forbidden === 0 && results.length === endpoints.length ? 0 : 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
