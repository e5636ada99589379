import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { measureBurst } from "./burst";
import { measureCallbacks } from "./callback-throughput";
import { benchDispatchLatency } from "./dispatch-latency";
import { measureHeadOfLine } from "./head-of-line";
import { measureIntake, type IntakeFigures } from "./intake-throughput";
import { benchLambdaColdImport } from "./lambda-cold-import";
import { report, table } from "./report";

/** Seconds of sustained load per intake target. */
const INTAKE_SECONDS = 10;
const CALLBACKS = 6_000;
const DISPATCH_ROUNDS = 20;
const COMMAND = "nice -n 0 npm run bench";

const fixed = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : "–");
const ratio = (value: number, reference: number) => `${fixed(value / reference, 2)}×`;
const met = (ok: boolean) => (ok ? "met" : "**not met**");
const load = () =>
  loadavg()
    .map((n) => n.toFixed(2))
    .join(" / ");

async function main(): Promise<void> {
  const loadBefore = load();
  // One target at a time, the references first, all in this one run: compare ratios, not absolutes.
  const intake: Record<"ceiling" | "probot" | "relay", IntakeFigures> = {
    ceiling: await measureIntake("ceiling", INTAKE_SECONDS),
    probot: await measureIntake("probot", INTAKE_SECONDS),
    relay: await measureIntake("relay", INTAKE_SECONDS),
  };
  const callbacks = await measureCallbacks(CALLBACKS);
  const dispatch = await benchDispatchLatency(DISPATCH_ROUNDS);
  const headOfLine = await measureHeadOfLine(1_000, 20);
  const burst = await measureBurst(1_000);
  const lambda = benchLambdaColdImport();
  const loadAfter = load();

  const { ceiling, probot, relay } = intake;
  const summary = table(
    [
      "figure",
      "ci-relay",
      "no-op Probot 13 app",
      "raw verify+parse ceiling",
      "ratio to Probot / ceiling",
      "target",
      "met?",
    ],
    [
      [
        "webhook answer p50 ms, 20 KB PR, 4 downstreams",
        fixed(relay.answerP50Ms, 2),
        fixed(probot.answerP50Ms, 2),
        fixed(ceiling.answerP50Ms, 2),
        `${ratio(relay.answerP50Ms, probot.answerP50Ms)} / ${ratio(relay.answerP50Ms, ceiling.answerP50Ms)}`,
        "≤ 5 ms",
        met(relay.answerP50Ms <= 5),
      ],
      [
        `sustained intake /s, unique signed deliveries, c10, ${INTAKE_SECONDS} s`,
        fixed(relay.perSecond, 0),
        fixed(probot.perSecond, 0),
        fixed(ceiling.perSecond, 0),
        `${ratio(relay.perSecond, probot.perSecond)} / ${ratio(relay.perSecond, ceiling.perSecond)}`,
        "≥ 1,200 /s",
        met(relay.perSecond >= 1200),
      ],
      [
        "sustained intake, ratio to Probot / to the ceiling",
        "",
        "",
        "",
        `${ratio(relay.perSecond, probot.perSecond)} / ${ratio(relay.perSecond, ceiling.perSecond)}`,
        "≥ 1.5× / ≥ 0.3×",
        met(relay.perSecond >= 1.5 * probot.perSecond && relay.perSecond >= 0.3 * ceiling.perSecond),
      ],
      [
        "server CPU ms per delivery taken in",
        fixed(relay.cpuMsPerDelivery, 2),
        fixed(probot.cpuMsPerDelivery, 2),
        fixed(ceiling.cpuMsPerDelivery, 2),
        `${ratio(relay.cpuMsPerDelivery, probot.cpuMsPerDelivery)} / ${ratio(relay.cpuMsPerDelivery, ceiling.cpuMsPerDelivery)}`,
        "≤ 0.8 ms",
        met(relay.cpuMsPerDelivery <= 0.8),
      ],
      [
        "RSS MB right after the intake load",
        fixed(relay.rssMb, 0),
        fixed(probot.rssMb, 0),
        fixed(ceiling.rssMb, 0),
        `${ratio(relay.rssMb, probot.rssMb)} / ${ratio(relay.rssMb, ceiling.rssMb)}`,
        "≤ 150 MB",
        met(relay.rssMb <= 150),
      ],
      [
        "failed answers during intake (non-2xx, errors)",
        String(relay.failures),
        String(probot.failures),
        String(ceiling.failures),
        "",
        "0",
        met(relay.failures === 0),
      ],
      [
        `callbacks /s at c50, real JWTs, each a transition (${CALLBACKS})`,
        fixed(callbacks.perSecond, 0),
        "–",
        "–",
        "",
        "≥ 1,500 /s",
        met(callbacks.perSecond >= 1500),
      ],
      [
        "callbacks p99 ms at c50 (p50)",
        `${fixed(callbacks.p99Ms, 0)} (${fixed(callbacks.p50Ms, 0)})`,
        "–",
        "–",
        "",
        "≤ 50 ms",
        met(callbacks.p99Ms <= 50),
      ],
      ["server CPU ms per callback (HUD sends included)", fixed(callbacks.cpuMsPerCallback, 2), "–", "–", "", "", ""],
      ["failed callbacks", String(callbacks.failures), "–", "–", "", "0", met(callbacks.failures === 0)],
      ["GitHub calls per dispatch, steady state", dispatch.callsPerDispatch, "–", "–", "", "", ""],
      [
        `another installation's dispatch, ms after its answer, with one installation ${headOfLine.backlog} tasks behind: p95 (p50)`,
        `${fixed(headOfLine.p95Ms, 0)} (${fixed(headOfLine.p50Ms, 0)})`,
        "–",
        "–",
        "",
        "≤ 100 ms",
        met(headOfLine.p95Ms <= 100 && headOfLine.backlogAtEnd > 0),
      ],
      [
        `burst of ${burst.deliveries} to 4 installations: s to the last dispatch (queue)`,
        fixed(burst.secondsToLastDispatch, 2),
        "–",
        "–",
        "",
        "",
        "",
      ],
      [
        "burst: peak backlog bytes in Redis (per delivery)",
        `${fixed(burst.peakBacklogBytes / 1e6, 1)} MB (${fixed(burst.peakBacklogBytes / burst.deliveries / 1024, 1)} KiB)`,
        "–",
        "–",
        "",
        "",
        "",
      ],
      [
        "burst: backlog bytes per waiting delivery, at the peak",
        `${fixed(burst.bytesPerWaitingDelivery / 1024, 1)} KiB`,
        "–",
        "–",
        "",
        "",
        "",
      ],
      [
        `burst: dispatches superseded (${burst.deliveries} pushes over 100 PRs)`,
        String(burst.superseded),
        "–",
        "–",
        "",
        "",
        "",
      ],
      [
        "burst: dispatches lost / duplicated after the drain",
        `${burst.lost} / ${burst.duplicated}`,
        "–",
        "–",
        "",
        "0 / 0",
        met(burst.lost === 0 && burst.duplicated === 0 && burst.accepted === burst.deliveries),
      ],
      [
        "Lambda: slowest handler's bundled cold import, median ms",
        fixed(lambda.slowestBundledMs, 0),
        "–",
        "–",
        "",
        "≤ 250 ms",
        met(lambda.slowestBundledMs <= 250),
      ],
    ],
  );
  report(
    [
      `Reproduce: \`${COMMAND}\` (builds, then runs every figure below in one process, one target at a time).`,
      `Load average (1 / 5 / 15 min) at the start: ${loadBefore}; at the end: ${loadAfter}. The machine is shared: compare the`,
      "ratios within this run rather than absolute figures across runs. Targets are goals for this benchmark, never test assertions.",
      "",
      "The references are started by the bench itself: a bare Node http server that checks the HMAC of the same payload and parses",
      "it (bench/ceiling-server.ts), and a Probot 13 app whose pull_request handler does nothing, behind Probot's own middleware",
      "(bench/noop-probot-server.ts). Load: autocannon, every request a new delivery id over ~20 KB signed PR payloads; CPU time",
      "and RSS of each server from /proc/<pid>. The relay runs as deployed (lib/main.js) on a Redis of its own.",
      "",
      ...summary,
    ],
    [dispatch.result, lambda.result],
    // The analysis of the figures (profiles, what bounds each one), written by hand, follows every run.
    readFileSync(join(__dirname, "../../bench/NOTES.md"), "utf8").trimEnd().split("\n"),
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
