import { FULL_RUN, runFaultScenario, SHORT_RUN } from "../support/fault-scenario";

/**
 * `npm run faults`: the full fault run (see test/support/fault-scenario.ts for what is injected and
 * what "lost" means). Options: --seed S (replays the same faults), --kills N, --interval MS,
 * --short (the version `npm test` runs).
 * Exits 1 when anything was lost or doubled that no erasure of Redis excuses.
 */

function option(name: string): string | undefined {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? undefined : process.argv[at + 1];
}

async function main(): Promise<void> {
  const preset = process.argv.includes("--short") ? SHORT_RUN : FULL_RUN;
  const result = await runFaultScenario({
    ...preset,
    seed: Number(option("seed") ?? Date.now() % 1_000_000_000),
    kills: Number(option("kills") ?? preset.kills),
    deliveryIntervalMs: Number(option("interval") ?? preset.deliveryIntervalMs),
    log: (line) => console.log(`${new Date().toISOString().slice(11, 19)} ${line}`),
  });
  const { dispatches, hudRows } = result.report;
  const bad =
    dispatches.lost + dispatches.duplicates + hudRows.lost + hudRows.duplicates + result.unexpectedExits.length;
  console.log(
    bad === 0 ? "faults: nothing lost or doubled beyond what an erased Redis excuses" : `faults: ${bad} problems`,
  );
  process.exitCode = bad === 0 ? 0 : 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
