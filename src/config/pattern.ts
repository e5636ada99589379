/**
 * SPEC §2 "Patterns", the one matcher for every pattern in the relay config (push branches and tags,
 * `callers.workflow_ref`, broker `caller` fields). A pattern matches the whole value:
 *
 * - `*` matches any run of characters (also none) except `/` and `@`;
 * - `**` (two or more stars) matches any run except `@`, so it crosses `/` but never `@`;
 * - `?` matches one character except `/` and `@`;
 * - a pattern that is exactly `*` matches any value;
 * - everything else is literal: no braces, classes, extglobs, negation or backslash escapes, and no
 *   URL-decoding (`%40` is three characters, never an `@`).
 *
 * `@` separates a workflow file from its ref in `workflow_ref`, and a branch name may contain `@`, `/`
 * and `.`; so no wildcard may cross `@`, or `…/workflows/*@refs/heads/main` would admit
 * `…/workflows/evil.yml@refs/heads/attacker@refs/heads/main`. No wildcard matches a control character
 * either (git forbids them in refs; a value carrying one is forged or broken).
 *
 * Matching is case-sensitive (git refs and paths are: `refs/heads/Main` is another branch than `main`),
 * except a `workflow_ref`'s leading `owner/repo`, which GitHub compares case-insensitively (SPEC §2);
 * see `matchesWorkflowRef`.
 *
 * The matcher runs the pattern as a set of positions over the value, one character at a time, so its
 * cost is at most value length x pattern length whatever the input: there is no backtracking to blow up.
 */

type Token =
  | { kind: "literal"; char: string; anyCase: boolean }
  /** `?` */
  | { kind: "one" }
  /** `*` */
  | { kind: "segment" }
  /** `**` */
  | { kind: "any" };

export interface PatternOptions {
  /**
   * The pattern's leading `owner/repo/` matches in any ASCII letter case: its literal characters up to
   * its second `/`, unless a `**` comes first. Only `*` and `?` can stand before that `/`, and neither
   * crosses `/`, so the case-blind part always lines up with the value's own `owner/repo/`.
   */
  repoPrefix?: boolean;
}

export interface CompiledPattern {
  matches(value: string): boolean;
}

const MATCH_ANYTHING: CompiledPattern = { matches: () => true };

export function compilePattern(pattern: string, options: PatternOptions = {}): CompiledPattern {
  if (pattern === "*") return MATCH_ANYTHING;
  const tokens = tokenize(pattern, options.repoPrefix === true);
  return { matches: (value) => run(tokens, value) };
}

/** Does `value` match `pattern` (case-sensitive)? */
export function matchesPattern(pattern: string, value: string): boolean {
  return compilePattern(pattern).matches(value);
}

/** Does `value` match at least one of `patterns`? An empty list matches nothing. */
export function matchesAnyPattern(patterns: readonly string[], value: string): boolean {
  return patterns.some((pattern) => matchesPattern(pattern, value));
}

/** `owner/repo/<path>@<ref>`: the repository part in any letter case, path and ref exactly. */
export function matchesWorkflowRef(pattern: string, value: string): boolean {
  return compilePattern(pattern, { repoPrefix: true }).matches(value);
}

function tokenize(pattern: string, repoPrefix: boolean): Token[] {
  const chars = Array.from(pattern);
  const tokens: Token[] = [];
  let slashesLeft = repoPrefix ? 2 : 0;
  for (let i = 0; i < chars.length; i++) {
    const char = chars[i];
    if (char === "*") {
      let stars = 1;
      while (chars[i + 1] === "*") {
        stars++;
        i++;
      }
      if (stars > 1) slashesLeft = 0;
      tokens.push({ kind: stars > 1 ? "any" : "segment" });
    } else if (char === "?") {
      tokens.push({ kind: "one" });
    } else {
      tokens.push({ kind: "literal", char, anyCase: slashesLeft > 0 });
      if (char === "/" && slashesLeft > 0) slashesLeft--;
    }
  }
  return tokens;
}

function isControl(char: string): boolean {
  const code = char.codePointAt(0) ?? 0;
  return code < 0x20 || code === 0x7f;
}

/**
 * Lower case for ASCII letters only. GitHub names are ASCII; Unicode folding would let `K` (U+212A,
 * Kelvin sign) stand for `k` and `ſ` (U+017F) for `s`.
 */
export function asciiLowerCase(text: string): string {
  return text.replace(/[A-Z]/g, (letter) => String.fromCharCode(letter.charCodeAt(0) + 32));
}

function consumes(token: Token, char: string): boolean {
  switch (token.kind) {
    case "literal":
      return token.anyCase ? asciiLowerCase(token.char) === asciiLowerCase(char) : token.char === char;
    case "one":
    case "segment":
      return char !== "/" && char !== "@" && !isControl(char);
    case "any":
      return char !== "@" && !isControl(char);
  }
}

/** A star may match nothing: a position before it also stands after it. */
function close(tokens: readonly Token[], active: Uint8Array): void {
  for (let i = 0; i < tokens.length; i++) {
    const kind = tokens[i].kind;
    if (active[i] && (kind === "segment" || kind === "any")) active[i + 1] = 1;
  }
}

function run(tokens: readonly Token[], value: string): boolean {
  let active = new Uint8Array(tokens.length + 1);
  active[0] = 1;
  close(tokens, active);
  for (const char of value) {
    const next = new Uint8Array(tokens.length + 1);
    let any = false;
    for (let i = 0; i < tokens.length; i++) {
      if (!active[i] || !consumes(tokens[i], char)) continue;
      // A star stays where it is after eating a character; everything else moves on.
      const kind = tokens[i].kind;
      next[kind === "segment" || kind === "any" ? i : i + 1] = 1;
      any = true;
    }
    if (!any) return false;
    close(tokens, next);
    active = next;
  }
  return active[tokens.length] === 1;
}
