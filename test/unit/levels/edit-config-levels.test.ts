import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseRelayConfig } from "../../../src/config/parse-relay-config";
import { editConfigLevels } from "../../../src/levels/edit-config-levels";
import { unifiedDiff } from "../../../src/levels/unified-diff";

const CONFIG = `version: 1
upstreams: [pytorch/pytorch]
downstreams:
  # the NPU backend
  - repo: Ascend/pytorch
    level: L3
    device: npu   # label ciflow/relay/npu
    oncalls: [alice]
  - {repo: vendor/flow, level: "L3", device: x86, oncalls: [bob]}
  - repo: vendor/top
    level: L4
  - repo: vendor/mid
    level: L2
levels:
  L3: {min_success_rate: 0.9}
`;

describe("editing levels in a native config", () => {
  it("changes only the level (and an L3 device) of the moved downstreams, block or flow, comments kept", () => {
    const edited = editConfigLevels(CONFIG, [
      { repo: "ascend/PyTorch", to: "L4" },
      { repo: "vendor/flow", to: "L2" },
      { repo: "vendor/top", to: "L4" },
      { repo: "vendor/mid", to: "L1" },
    ]);
    expect(edited).toBe(`version: 1
upstreams: [pytorch/pytorch]
downstreams:
  # the NPU backend
  - repo: Ascend/pytorch
    level: L4
    oncalls: [alice]
  - {repo: vendor/flow, level: L2, oncalls: [bob]}
  - repo: vendor/top
    level: L4
  - repo: vendor/mid
    level: L1
levels:
  L3: {min_success_rate: 0.9}
`);
    expect(
      parseRelayConfig(edited, { source: "edited.yml" }).downstreams.map((d) => [d.repo, d.level, d.device]),
    ).toEqual([
      ["Ascend/pytorch", "L4", undefined],
      ["vendor/flow", "L2", undefined],
      ["vendor/top", "L4", undefined],
      ["vendor/mid", "L1", undefined],
    ]);
  });

  it("takes out a device that is the first key of its entry without breaking the entry", () => {
    const text =
      "version: 1\nupstreams: [o/r]\ndownstreams:\n  - device: npu\n    repo: a/b\n    level: L3\n  - {device: x, repo: c/d, level: L3}\n";
    const edited = editConfigLevels(text, [
      { repo: "a/b", to: "L2" },
      { repo: "c/d", to: "L4" },
    ]);
    expect(edited).toBe(
      "version: 1\nupstreams: [o/r]\ndownstreams:\n  - repo: a/b\n    level: L2\n  - {repo: c/d, level: L4}\n",
    );
  });

  it("refuses a downstream the file does not have", () => {
    expect(() => editConfigLevels(CONFIG, [{ repo: "not/there", to: "L2" }])).toThrow(
      "not/there is not a downstream of this file",
    );
  });
});

describe("unified diff", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "ci-relay-diff-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const cases: [string, string, string][] = [
    ["a promote (L3 -> L4, device out)", CONFIG, editConfigLevels(CONFIG, [{ repo: "Ascend/pytorch", to: "L4" }])],
    [
      "a demote (L2 -> L1) far from the other change",
      CONFIG,
      editConfigLevels(CONFIG, [
        { repo: "vendor/mid", to: "L1" },
        { repo: "Ascend/pytorch", to: "L2" },
      ]),
    ],
    ["an added last line without a newline", "a\nb\n", "a\nb\nc"],
    ["a removed newline at the end", "a\nb\n", "a\nb"],
    ["from an empty file", "", "x\n"],
    ["one line changed in the middle", "a\nb\nc\nd\ne\nf\ng\nh\n", "a\nb\nc\nD\ne\nf\ng\nh\n"],
  ];

  it.each(cases)("%s: the same hunks as diff -u, and patch turns the old file into the new", (_, before, after) => {
    writeFileSync(join(dir, "old.yml"), before);
    writeFileSync(join(dir, "new.yml"), after);
    const ours = unifiedDiff(before, after, { from: "old.yml", to: "new.yml" });
    const theirs = spawnSync("diff", ["-u", "old.yml", "new.yml"], { cwd: dir, encoding: "utf8" }).stdout;
    // diff -u stamps its headers with file times; the hunks are what must agree.
    const hunksOf = (text: string) => text.split("\n").slice(2).join("\n");
    expect(hunksOf(ours)).toBe(hunksOf(theirs));
    writeFileSync(join(dir, "plan.diff"), ours);
    execFileSync("patch", ["-s", "old.yml", "plan.diff"], { cwd: dir });
    expect(readFileSync(join(dir, "old.yml"), "utf8")).toBe(after);
  });

  it("is empty for equal texts", () => {
    expect(unifiedDiff(CONFIG, CONFIG, { from: "a", to: "b" })).toBe("");
  });

  it("prints a promote as a reviewer reads it", () => {
    expect(
      unifiedDiff(CONFIG, editConfigLevels(CONFIG, [{ repo: "Ascend/pytorch", to: "L4" }]), {
        from: "a/relay.yml",
        to: "b/relay.yml",
      }),
    ).toBe(
      [
        "--- a/relay.yml",
        "+++ b/relay.yml",
        "@@ -3,8 +3,7 @@",
        " downstreams:",
        "   # the NPU backend",
        "   - repo: Ascend/pytorch",
        "-    level: L3",
        "-    device: npu   # label ciflow/relay/npu",
        "+    level: L4",
        "     oncalls: [alice]",
        '   - {repo: vendor/flow, level: "L3", device: x86, oncalls: [bob]}',
        "   - repo: vendor/top",
        "",
      ].join("\n"),
    );
  });
});
