import { readFileSync } from "node:fs";

/**
 * The resident set size of a process in MiB, as the kernel reports it (`VmRSS` in /proc), or null
 * when the process is gone or this is not Linux. The suites print it to show memory does not grow.
 */
export function residentMiB(pid: number): number | null {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Math.round((Number(match[1]) / 1024) * 10) / 10 : null;
  } catch {
    return null;
  }
}
