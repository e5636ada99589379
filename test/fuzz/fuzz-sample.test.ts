import { forbiddenAnswers, formatStats, fuzzEndpoint, type EndpointStats } from "../support/fuzz-driver";
import { FUZZ_ENDPOINTS } from "../support/fuzz-requests";
import { startFuzzWorld, type FuzzWorld } from "../support/fuzz-world";

/**
 * The fixed-seed sample of `npm run fuzz` that runs with every `npm test`: the same generated requests
 * each time, so a failure here reproduces with `npm run fuzz -- --seed 20261201 --count 200`.
 */

const SEED = 20_261_201;
const PER_ENDPOINT = 200;

describe("fuzzed requests against the real server (fixed seed)", () => {
  let fuzz: FuzzWorld;

  beforeAll(async () => {
    fuzz = await startFuzzWorld();
  }, 60_000);
  afterAll(async () => {
    await fuzz?.close();
  });

  // webhook-signed: currently fails on issue 9 defect 7 (intake): validly signed webhooks whose body is JSON but
  // not an object, an empty X-GitHub-Event or a non-numeric installation.id answer 500 with an HTML stack
  // trace, and a payload nested thousands deep answers 503. Expected green once that fix is merged.
  it.each(FUZZ_ENDPOINTS.map((endpoint, i) => [endpoint, i] as const))(
    "%s: no 5xx, no hang, no HTML, no stack trace",
    async (endpoint, i) => {
      const stats: EndpointStats = await fuzzEndpoint(fuzz.target, endpoint, fuzz.templates, { count: PER_ENDPOINT, seed: SEED + i * 7_919, concurrency: 4 });
      const report = [formatStats(stats), ...stats.examples].join("\n");
      expect({ forbidden: forbiddenAnswers(stats), requests: stats.requests, report }).toEqual({ forbidden: 0, requests: PER_ENDPOINT, report });
    },
    120_000,
  );
});
