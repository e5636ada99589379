import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Session } from "node:inspector";

/**
 * Preloaded (`node --require`) into a server the bench profiles: the first SIGUSR2 starts the CPU
 * profiler, the second writes `<BENCH_PROFILE_DIR>/<pid>.cpuprofile` — the sustained load only, and
 * without waiting for the process to exit (what `--cpu-prof` needs).
 */
const session = new Session();
session.connect();
let running = false;
process.on("SIGUSR2", () => {
  if (!running) {
    running = true;
    session.post("Profiler.enable", () => session.post("Profiler.start"));
    return;
  }
  running = false;
  session.post("Profiler.stop", (error, result) => {
    if (!error)
      writeFileSync(
        join(process.env.BENCH_PROFILE_DIR ?? ".", `${process.pid}.cpuprofile`),
        JSON.stringify(result.profile),
      );
  });
});
