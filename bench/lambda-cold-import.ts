import { execFileSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { percentile, type BenchResult } from "./report";

const ROOT = resolve(__dirname, "../..");
const HANDLERS = ["webhook", "http", "scheduled"];
const SAMPLES = 15;
/** Unbundled imports are only a comparison: fewer samples keep the run short. */
const UNBUNDLED_SAMPLES = 5;

/** Milliseconds `require(file)` takes in a fresh node process: what a Lambda cold start pays for code. */
function importMs(file: string): number {
  const script = `const t=process.hrtime.bigint();require(${JSON.stringify(file)});process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`;
  return Number(execFileSync(process.execPath, ["-e", script], { cwd: ROOT, encoding: "utf8" }));
}

const median = (file: string, samples = SAMPLES) =>
  percentile(
    Array.from({ length: samples }, () => importMs(file)),
    50,
  );

/**
 * Module import time of each Lambda handler as bundled for deployment (dist/lambda), next to the same
 * handler loaded from tsc's output and node_modules (lib/lambda): fresh process per sample, median.
 */
export function benchLambdaColdImport(): { result: BenchResult; slowestBundledMs: number } {
  execFileSync(process.execPath, [join(ROOT, "scripts/build-lambda.mjs")], { cwd: ROOT, stdio: "ignore" });
  const rows: [string, string][] = [["samples per bundled figure (fresh node process each)", String(SAMPLES)]];
  let slowestBundledMs = 0;
  for (const name of HANDLERS) {
    const bundle = join(ROOT, "dist/lambda", `${name}.js`);
    const bundled = median(bundle);
    slowestBundledMs = Math.max(slowestBundledMs, bundled);
    rows.push([`${name}: bundle size KiB`, (statSync(bundle).size / 1024).toFixed(0)]);
    rows.push([`${name}: bundled import, median ms`, bundled.toFixed(0)]);
    const unbundled = join(ROOT, "lib/lambda", `${name}.js`);
    if (existsSync(unbundled))
      rows.push([
        `${name}: unbundled import (lib/ + node_modules, ${UNBUNDLED_SAMPLES} samples), median ms`,
        median(unbundled, UNBUNDLED_SAMPLES).toFixed(0),
      ]);
  }
  return { result: { name: "Lambda handler cold import (esbuild bundle, node20, minified)", rows }, slowestBundledMs };
}
