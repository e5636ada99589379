import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../../../src/cli/run-cli";

const CONFIG = `version: 1
upstreams: [pytorch/pytorch]
downstreams:
  - repo: Ascend/pytorch
    level: L3
    device: npu
    oncalls: [alice]
  - repo: vendor/flaky
    level: L4
  - repo: vendor/steady
    level: L2
levels:
  L3: {min_dispatches: 10, min_success_rate: 0.9}
  L4: {min_dispatches: 10, min_success_rate: 0.95}
  window_days: 7
`;

const evidence = (repo: string, dispatches: number, successRate: number | null) => ({
  repo,
  level: "L2",
  oncalls: [],
  dispatches,
  successRate,
  pickupRate: 1,
  timeouts: 0,
  queueSeconds: { p50: 10, p95: 20 },
  executionSeconds: { p50: 100, p95: 200 },
  lastReportAt: null,
  meetsLevel: true,
});

const ANSWER = {
  ok: true,
  windowDays: 7,
  downstreams: [
    evidence("Ascend/pytorch", 30, 0.97),
    evidence("vendor/flaky", 30, 0.6),
    evidence("vendor/steady", 5, 1),
  ],
};

describe("ci-relay levels --plan", () => {
  let dir: string;
  let path: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "ci-relay-levels-"));
    path = join(dir, "relay.yml");
    writeFileSync(path, CONFIG);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function harness(answer: () => Response | Promise<Response>, env: NodeJS.ProcessEnv = {}) {
    const calls: string[] = [];
    const printed: string[] = [];
    const errors: string[] = [];
    const fetchStub = (async (url: string) => {
      calls.push(url);
      return answer();
    }) as typeof fetch;
    return {
      calls,
      printed,
      errors,
      io: {
        env,
        fetch: fetchStub,
        print: (line: string) => printed.push(line),
        error: (line: string) => errors.push(line),
      },
    };
  }

  it("prints a promote and a demote with their reasons and a diff of the file, and leaves the file as it was", async () => {
    const { calls, printed, errors, io } = harness(() => Response.json(ANSWER));
    const before = statSync(path).mtimeMs;
    expect(await runCli(["levels", "--plan", "--url", "http://relay.test/", "--config", path], io)).toBe(0);
    expect(calls).toEqual(["http://relay.test/relay/v1/downstreams?window_days=7"]);
    expect(errors).toEqual([]);
    expect(printed.join("\n")).toBe(
      [
        `# evidence of the last 7 days from http://relay.test; thresholds from ${path}`,
        "# promote Ascend/pytorch L3 -> L4: meets L4: min_dispatches 10, min_success_rate 0.95",
        "# demote vendor/flaky L4 -> L3: below L4: success rate 60% < 95% (not in the diff: L3 needs a device; set level and device by hand)",
        "--- a/relay.yml",
        "+++ b/relay.yml",
        "@@ -2,8 +2,7 @@",
        " upstreams: [pytorch/pytorch]",
        " downstreams:",
        "   - repo: Ascend/pytorch",
        "-    level: L3",
        "-    device: npu",
        "+    level: L4",
        "     oncalls: [alice]",
        "   - repo: vendor/flaky",
        "     level: L4",
      ].join("\n"),
    );
    expect(readFileSync(path, "utf8")).toBe(CONFIG);
    expect(statSync(path).mtimeMs).toBe(before);
  });

  it("demotes to a level it can write, from RELAY_CONFIG and CI_RELAY_URL", async () => {
    const answer = {
      ...ANSWER,
      downstreams: [
        evidence("Ascend/pytorch", 30, 0.5),
        evidence("vendor/flaky", 30, 0.97),
        evidence("vendor/steady", 5, 1),
      ],
    };
    const { calls, printed, io } = harness(() => Response.json(answer), {
      RELAY_CONFIG: path,
      CI_RELAY_URL: "http://relay.env",
    });
    expect(await runCli(["levels", "--plan"], io)).toBe(0);
    expect(calls).toEqual(["http://relay.env/relay/v1/downstreams?window_days=7"]);
    expect(printed.slice(1, 2)).toEqual(["# demote Ascend/pytorch L3 -> L2: below L3: success rate 50% < 90%"]);
    expect(printed.filter((line) => /^[-+](?!-- |\+\+ )/.test(line))).toEqual([
      "-    level: L3",
      "-    device: npu",
      "+    level: L2",
    ]);
    expect(readFileSync(path, "utf8")).toBe(CONFIG);
  });

  it("says so when nothing changes, and prints no diff", async () => {
    const answer = {
      ...ANSWER,
      downstreams: [
        evidence("Ascend/pytorch", 10, 0.92),
        evidence("vendor/flaky", 30, 0.97),
        evidence("vendor/steady", 5, 1),
      ],
    };
    const { printed, io } = harness(() => Response.json(answer));
    expect(await runCli(["levels", "--plan", "--config", path], io)).toBe(0);
    expect(printed.slice(1)).toEqual(["# no level change suggested"]);
  });

  it.each([
    [["levels"], {}, "ci-relay: --plan: required: levels only prints a plan, it never changes the config"],
    [["levels", "--plan", "extra"], {}, "ci-relay: extra: levels takes no arguments"],
    [["levels", "--plan", "--url", "not a url"], {}, "ci-relay: --url: not a URL"],
    [
      ["levels", "--plan"],
      { RELAY_CONFIG: "github:o/r/relay.yml" },
      "ci-relay: RELAY_CONFIG: names a file on GitHub: check it out and pass --config <path>",
    ],
  ])("%j is a usage error that asks nothing of the relay", async (argv, env, message) => {
    const { calls, errors, io } = harness(() => Response.json(ANSWER), env);
    expect(await runCli(argv, io)).toBe(2);
    expect(errors).toEqual([message]);
    expect(calls).toEqual([]);
  });

  it("fails with one line when the relay cannot be reached or answers something else, or the file is bad", async () => {
    const unreachable = harness(() => Promise.reject(new TypeError("fetch failed")));
    expect(await runCli(["levels", "--plan", "--config", path, "--url", "http://down.test"], unreachable.io)).toBe(1);
    expect(unreachable.errors).toEqual(["ci-relay: --url: http://down.test could not be reached"]);
    const refused = harness(() => Response.json({ ok: false, failureKind: "store-unavailable" }, { status: 503 }));
    expect(await runCli(["levels", "--plan", "--config", path, "--url", "http://up.test"], refused.io)).toBe(1);
    expect(refused.errors).toEqual([
      "ci-relay: --url: http://up.test/relay/v1/downstreams answered 503 without the level evidence",
    ]);
    writeFileSync(path, "version: 1\nupstreams: [pytorch/pytorch]\nlevels: {L3: {min_succes_rate: 0.9}}\n");
    const bad = harness(() => Response.json(ANSWER));
    expect(await runCli(["levels", "--plan", "--config", path], bad.io)).toBe(1);
    expect(bad.errors).toEqual([`ci-relay: ${path}:3:15: levels.L3.min_succes_rate: unknown key`]);
    expect(await runCli(["levels", "--plan", "--config", join(dir, "missing.yml")], bad.io)).toBe(1);
    expect(bad.errors[1]).toBe(`ci-relay: --config: ${join(dir, "missing.yml")} cannot be read`);
  });
});
