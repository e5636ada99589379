import { writeFileSync } from "node:fs";
import { cpus } from "node:os";

export interface BenchResult {
  name: string;
  rows: [string, string][];
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** Prints the figures and writes them to BENCHMARKS.md with the machine they were measured on. */
export function report(results: BenchResult[], path = "BENCHMARKS.md"): void {
  const lines = [
    "# Benchmarks",
    "",
    `Measured ${new Date().toISOString().slice(0, 10)} on ${cpus().length} × ${cpus()[0]?.model ?? "unknown CPU"}, Node ${process.version}, by \`npm run bench\`.`,
    "Shared, noisy machines: read these as orders of magnitude, and compare figures from one run only.",
    "",
  ];
  for (const result of results) {
    lines.push(`## ${result.name}`, "", "| measure | value |", "|---|---|", ...result.rows.map(([k, v]) => `| ${k} | ${v} |`), "");
  }
  const text = lines.join("\n");
  console.log(text);
  writeFileSync(path, text);
}
