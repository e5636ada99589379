import { matchesAnyPattern, matchesPattern, matchesWorkflowRef } from "../../../src/config/pattern";
import { sameRepo } from "../../../src/config/types";

const PIN = "o/r/.github/workflows/*@refs/heads/main";

describe("SPEC §2 patterns", () => {
  test.each([
    ["o/r/.github/workflows/upstream.yml@refs/heads/main", true],
    ["o/r/.github/workflows/.hidden.yml@refs/heads/main", true],
    // the defect: a branch named `attacker@refs/heads/main` carried the pin's suffix
    ["o/r/.github/workflows/evil.yml@refs/heads/attacker@refs/heads/main", false],
    ["o/r/.github/workflows/sub/evil.yml@refs/heads/main", false],
    ["o/r/.github/workflows/upstream.yml@refs/heads/main/x", false],
    ["o/r/.github/workflows/upstream.yml@refs/heads/mainx", false],
    ["xo/r/.github/workflows/upstream.yml@refs/heads/main", false],
    ["o/r/.github/workflows/upstream.yml@refs/heads/Main", false],
    ["o/r/.github/workflows/upstream.yml@refs/tags/main", false],
    ["o/r/.github/workflows/a@b.yml@refs/heads/main", false],
    // URL-encoded separators are literal characters, never separators
    ["o/r/.github/workflows/evil.yml%40refs/heads/attacker@refs/heads/main", false],
    ["o/r/.github/workflows/x%2Fevil.yml@refs/heads/main", true],
    ["o/r/.github/workflows/x%2F..%2Fevil.yml%40refs%2Fheads%2Fx@refs/heads/main", true],
    ["o/r/.github/workflows/evil.yml\u0000@refs/heads/main", false],
    ["o/r/.github/workflows/evil.yml\n@refs/heads/main", false],
    ["o/r/.github/workflows/upstream.yml@refs/heads/main\n", false],
    ["", false],
  ])("the pin `%s` ... %s", (value, expected) => {
    expect(matchesWorkflowRef(PIN, value)).toBe(expected);
    expect(matchesPattern(PIN, value)).toBe(expected);
  });

  test("`*` stops at `/` and `@` and matches an empty run", () => {
    expect(matchesPattern("release/*", "release/2.5")).toBe(true);
    expect(matchesPattern("release/*", "release/")).toBe(true);
    expect(matchesPattern("release/*", "release/2.5/hotfix")).toBe(false);
    expect(matchesPattern("release/*", "release/a@b")).toBe(false);
    expect(matchesPattern("refs/heads/*", "refs/heads/.hidden")).toBe(true);
  });

  test("`**` crosses `/` but never `@`", () => {
    expect(matchesPattern("**", "gh/someone/1/head")).toBe(true);
    expect(matchesPattern("**", "")).toBe(true);
    expect(matchesPattern("**", "a@b")).toBe(false);
    expect(matchesPattern("release/**", "release/2/5/x")).toBe(true);
    expect(matchesPattern("o/r/**@refs/heads/main", "o/r/.github/workflows/sub/x.yml@refs/heads/main")).toBe(true);
    expect(matchesPattern("o/r/**@refs/heads/main", "o/r/x.yml@refs/heads/attacker@refs/heads/main")).toBe(false);
    expect(matchesPattern("***", "a/b/c")).toBe(true);
    expect(matchesPattern("***", "a/b@c")).toBe(false);
    // `**` has no special meaning next to slashes: `a/**/b` needs a segment between
    expect(matchesPattern("a/**/b", "a/b")).toBe(false);
    expect(matchesPattern("a/**/b", "a/x/y/b")).toBe(true);
  });

  test("`?` is one character, never `/` or `@`", () => {
    expect(matchesPattern("v?", "v1")).toBe(true);
    expect(matchesPattern("v?", "v")).toBe(false);
    expect(matchesPattern("v?", "v12")).toBe(false);
    expect(matchesPattern("a?b", "a/b")).toBe(false);
    expect(matchesPattern("a?b", "a@b")).toBe(false);
    expect(matchesPattern("a?b", "a\u00e9b")).toBe(true);
    expect(matchesPattern("a?b", "a\u{1F600}b")).toBe(true);
  });

  test("exactly `*` matches any value, even one a wildcard could not", () => {
    for (const value of ["", "a/b@c", "x\ny", "\u0000"]) expect(matchesPattern("*", value)).toBe(true);
    expect(matchesPattern(" *", " a")).toBe(true);
    expect(matchesPattern("* ", "a/b ")).toBe(false);
  });

  test.each([
    ["{main,dev}", "main", false],
    ["{main,dev}", "{main,dev}", true],
    ["[mb]ain", "main", false],
    ["[mb]ain", "[mb]ain", true],
    ["!main", "dev", false],
    ["!main", "!main", true],
    ["+(main)", "main", false],
    ["@(main)", "main", false],
    ["main\\*", "main\\x", true],
    ["main\\*", "main*", false],
    ["a.b", "axb", false],
    ["a+", "aa", false],
    ["^main$", "main", false],
    ["(a|b)", "a", false],
  ])("`%s` is literal apart from its stars: %s -> %s", (pattern, value, expected) => {
    expect(matchesPattern(pattern, value)).toBe(expected);
  });

  test("is case-sensitive, as git refs and paths are", () => {
    expect(matchesPattern("main", "Main")).toBe(false);
    expect(matchesPattern("release/*", "Release/1")).toBe(false);
    expect(matchesPattern("MAIN", "main")).toBe(false);
  });

  test("a workflow_ref's owner/repo matches in any ASCII case; path and ref do not", () => {
    const pin = "Ascend/PyTorch/.github/workflows/upstream.yml@refs/heads/main";
    expect(matchesWorkflowRef(pin, "ascend/pytorch/.github/workflows/upstream.yml@refs/heads/main")).toBe(true);
    expect(matchesWorkflowRef(pin, "ASCEND/PYTORCH/.github/workflows/upstream.yml@refs/heads/main")).toBe(true);
    expect(matchesWorkflowRef(pin, "Ascend/PyTorch/.GitHub/workflows/upstream.yml@refs/heads/main")).toBe(false);
    expect(matchesWorkflowRef(pin, "Ascend/PyTorch/.github/workflows/Upstream.yml@refs/heads/main")).toBe(false);
    expect(matchesWorkflowRef(pin, "Ascend/PyTorch/.github/workflows/upstream.yml@refs/heads/MAIN")).toBe(false);
    // ASCII only: the Kelvin sign lower-cases to `k` in Unicode
    expect(matchesWorkflowRef("kube/r/x@refs/heads/main", "\u212Aube/r/x@refs/heads/main")).toBe(false);
    // wildcards before the second slash keep the case-blind part aligned with owner/repo
    expect(
      matchesWorkflowRef(
        "*/PyTorch/.github/workflows/*@refs/heads/main",
        "x/pytorch/.github/workflows/a.yml@refs/heads/main",
      ),
    ).toBe(true);
    expect(
      matchesWorkflowRef(
        "*/PyTorch/.github/workflows/*@refs/heads/main",
        "x/pytorch/.GITHUB/workflows/a.yml@refs/heads/main",
      ),
    ).toBe(false);
    // after a `**` nothing is case-blind: it could stand for owner/repo
    expect(matchesWorkflowRef("**/Main", "o/r/x@main")).toBe(false);
    expect(matchesWorkflowRef("**/.github/x@refs/heads/Main", "o/r/.github/x@refs/heads/main")).toBe(false);
  });

  test("empty segments and empty values", () => {
    expect(matchesPattern("a/*/b", "a//b")).toBe(true);
    expect(matchesPattern("a//b", "a/b")).toBe(false);
    expect(matchesPattern("", "")).toBe(true);
    expect(matchesPattern("", "a")).toBe(false);
    expect(matchesPattern("?", "")).toBe(false);
  });

  test("control characters are matched by no wildcard, only literally", () => {
    for (const char of ["\u0000", "\n", "\r", "\t", "\u001f", "\u007f"]) {
      expect(matchesPattern("refs/heads/*", `refs/heads/a${char}b`)).toBe(false);
      expect(matchesPattern("**", `a${char}`)).toBe(false);
      expect(matchesPattern("?", char)).toBe(false);
      expect(matchesPattern(`a${char}`, `a${char}`)).toBe(true);
    }
  });

  test("runs in time linear in the value, whatever the pattern (no ReDoS)", () => {
    const value = "a".repeat(200_000);
    // Each of these backtracks exponentially or polynomially in a naive glob-to-regex translation.
    for (const pattern of ["*a*a*a*a*a*a*a*a*b", "**a**a**a**a**a**b", "?*?*?*?*?*?*b", `${"*".repeat(50)}b`]) {
      expect(matchesPattern(pattern, value)).toBe(false);
      expect(matchesPattern(pattern, `${value}b`)).toBe(true);
    }
    expect(matchesPattern("*", "x".repeat(1_000_000))).toBe(true);
    expect(matchesPattern(`${"a/".repeat(1000)}*`, `${"a/".repeat(1000)}x`)).toBe(true);
  });

  test("the list form matches when any pattern does", () => {
    expect(matchesAnyPattern(["main", "release/*"], "release/2.5")).toBe(true);
    expect(matchesAnyPattern(["main", "release/*"], "feature/x")).toBe(false);
    expect(matchesAnyPattern([], "main")).toBe(false);
  });
});

describe("repository names", () => {
  test("match in any ASCII letter case, and only ASCII folds", () => {
    expect(sameRepo("Ascend/PyTorch", "ascend/pytorch")).toBe(true);
    expect(sameRepo("kube/repo", "\u212Aube/repo")).toBe(false);
    expect(sameRepo("KUBE/REPO", "\u212Aube/repo")).toBe(false);
    expect(sameRepo("o/repo", "o/rep")).toBe(false);
  });
});

describe("the matcher against a reference regex, on generated patterns and values", () => {
  /** The SPEC's rules spelled as a regex: fine for short inputs, where backtracking costs nothing. */
  function reference(pattern: string): RegExp {
    if (pattern === "*") return /^[\s\S]*$/u;
    const WILD = "\\u0000-\\u001f\\u007f";
    const body = pattern
      .split(/(\*+|\?)/)
      .map((part) => {
        if (part.startsWith("**")) return `[^@${WILD}]*`;
        if (part === "*") return `[^/@${WILD}]*`;
        if (part === "?") return `[^/@${WILD}]`;
        return part.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
      })
      .join("");
    return new RegExp(`^${body}$`, "u");
  }

  // A fixed-seed generator: the same cases on every run, so a failure can be replayed.
  let seed = 0x2545f491;
  const next = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 0x100000000;
  };
  const pick = (chars: readonly string[], max: number) =>
    Array.from({ length: Math.floor(next() * (max + 1)) }, () => chars[Math.floor(next() * chars.length)]).join("");

  test("agree on 20,000 cases over separators, stars, case, encodings and control characters", () => {
    const patternChars = ["a", "A", "/", "@", "*", "*", "?", ".", "%", "4", "0", "[", "{", ","];
    const valueChars = ["a", "A", "/", "@", ".", "%", "4", "0", "\n", "\u0000", "é", "[", "{", ","];
    const disagreements: string[] = [];
    let matched = 0;
    for (let i = 0; i < 20_000; i++) {
      const pattern = pick(patternChars, 7);
      // half the values are the pattern with its wildcards filled in, so they come near to matching
      const value =
        i % 2 === 0
          ? pick(valueChars, 9)
          : pattern.replace(/\*+|\?/g, (wild) => pick(valueChars, wild === "?" ? 1 : 3) || "a");
      const expected = reference(pattern).test(value);
      if (expected) matched++;
      if (matchesPattern(pattern, value) !== expected) disagreements.push(JSON.stringify([pattern, value]));
    }
    expect(disagreements.slice(0, 10)).toEqual([]);
    expect(matched).toBeGreaterThan(4_000); // the cases exercise matches, not only refusals
  });
});
