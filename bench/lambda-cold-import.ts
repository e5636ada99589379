import { execFileSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { percentile, type BenchResult } from "./report";

const ROOT = resolve(__dirname, "../..");
const HANDLERS = ["webhook", "http", "scheduled"];
const SAMPLES = 15;

/** Milliseconds `require(file)` takes in a fresh node process: what a Lambda cold start pays for code. */
function importMs(file: string): number {
  const script = `const t=process.hrtime.bigint();require(${JSON.stringify(file)});process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`;
  return Number(execFileSync(process.execPath, ["-e", script], { cwd: ROOT, encoding: "utf8" }));
}

const median = (file: string) => percentile(Array.from({ length: SAMPLES }, () => importMs(file)), 50);

/**
 * Module import time of each Lambda handler as bundled for deployment (dist/lambda), next to the same
 * handler loaded from tsc's output and node_modules (lib/lambda): fresh process per sample, median.
 */
export function benchLambdaColdImport(): BenchResult {
  execFileSync(process.execPath, [join(ROOT, "scripts/build-lambda.mjs")], { cwd: ROOT, stdio: "ignore" });
  const rows: [string, string][] = [["samples per figure (fresh node process each)", String(SAMPLES)]];
  for (const name of HANDLERS) {
    const bundle = join(ROOT, "dist/lambda", `${name}.js`);
    rows.push([`${name}: bundle size KiB`, (statSync(bundle).size / 1024).toFixed(0)]);
    rows.push([`${name}: bundled import, median ms`, median(bundle).toFixed(0)]);
    const unbundled = join(ROOT, "lib/lambda", `${name}.js`);
    if (existsSync(unbundled)) rows.push([`${name}: unbundled import (lib/ + node_modules), median ms`, median(unbundled).toFixed(0)]);
  }
  return { name: "Lambda handler cold import (esbuild bundle, node20, minified)", rows };
}
