import { forbiddenAnswers, formatStats, fuzzEndpoint, type EndpointStats } from "../support/fuzz-driver";
import { FUZZ_ENDPOINTS, type FuzzEndpoint } from "../support/fuzz-requests";
import { startFuzzWorld } from "../support/fuzz-world";

/**
 * The fixed-seed sample of `npm run fuzz` that runs with every `npm test`: the same generated requests
 * each time, so a failure here reproduces with `npm run fuzz -- --seed 20261201 --count 200`.
 */

const SEED = 20_261_201;
const PER_ENDPOINT = 200;

describe("fuzzed requests against the real server (fixed seed)", () => {
  const results = new Map<FuzzEndpoint, EndpointStats>();

  beforeAll(async () => {
    const fuzz = await startFuzzWorld();
    try {
      for (const [i, endpoint] of FUZZ_ENDPOINTS.entries()) {
        // The same seeds as `npm run fuzz -- --seed 20261201`.
        results.set(
          endpoint,
          await fuzzEndpoint(fuzz.target, endpoint, fuzz.templates, {
            count: PER_ENDPOINT,
            seed: SEED + i * 7_919,
            concurrency: 4,
          }),
        );
      }
    } finally {
      await fuzz.close();
    }
  }, 180_000);

  const report = (stats: EndpointStats) => [formatStats(stats), ...stats.examples].join("\n");

  // webhook-signed currently fails on issue 9 defect 7 (intake): validly signed webhooks whose body is JSON
  // but not an object, with an empty or unknown X-GitHub-Event, or a non-numeric installation.id, answer 500
  // (an HTML stack trace, or Probot's {"error": ...}); a payload nested thousands deep answers 503.
  // Expected green once that fix is merged.
  it.each([...FUZZ_ENDPOINTS])("%s: no 5xx, hang, HTML, stack trace or unsigned webhook accepted", (endpoint) => {
    const stats = results.get(endpoint);
    if (!stats) throw new Error(`${endpoint} was not fuzzed`);
    expect({ forbidden: forbiddenAnswers(stats), requests: stats.requests, report: report(stats) }).toEqual({
      forbidden: 0,
      requests: PER_ENDPOINT,
      report: report(stats),
    });
  });

  // Currently fails on issue 9 defect 7 (intake), its last clause ("an error handler after Probot's
  // middleware guarantees it for anything unforeseen"): another method or a path variant of any endpoint
  // (PATCH /relay/v1/callback, /relay/health/, /API/GITHUB/WEBHOOKS) gets Express's HTML "Cannot PATCH ..."
  // page instead of a SPEC §5 JSON 404. Expected green once that fix is merged.
  it("answers other methods and path variants of every endpoint without HTML", () => {
    const offRoute = [...results.values()].filter((stats) => stats.offRouteHtml > 0);
    expect(offRoute.map((stats) => `${stats.endpoint}: ${stats.offRouteHtml} HTML answers`)).toEqual([]);
  });
});
