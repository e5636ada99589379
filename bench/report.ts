import { writeFileSync } from "node:fs";
import { cpus } from "node:os";

export interface BenchResult {
  name: string;
  rows: [string, string][];
  /** lines printed under the table */
  notes?: string[];
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** A markdown table: a header row and body rows. */
export function table(header: string[], rows: string[][]): string[] {
  return [
    `| ${header.join(" | ")} |`,
    `|${header.map(() => "---").join("|")}|`,
    ...rows.map((row) => `| ${row.join(" | ")} |`),
  ];
}

/** Prints the figures and writes them to BENCHMARKS.md with the machine they were measured on. */
export function report(
  preamble: string[],
  results: BenchResult[],
  epilogue: string[] = [],
  path = "BENCHMARKS.md",
): void {
  const lines = [
    "# Benchmarks",
    "",
    `Measured ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC on ${cpus().length} × ${cpus()[0]?.model ?? "unknown CPU"}, Node ${process.version}, by \`npm run bench\`.`,
    ...preamble,
    "",
  ];
  for (const result of results) {
    lines.push(
      `## ${result.name}`,
      "",
      ...table(["measure", "value"], result.rows),
      "",
      ...(result.notes ?? []),
      ...(result.notes ? [""] : []),
    );
  }
  lines.push(...epilogue, "");
  const text = lines.join("\n");
  console.log(text);
  writeFileSync(path, text);
}
