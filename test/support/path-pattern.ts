/**
 * A path pattern as tests and the fake GitHub's route table write it: a literal path whose `{name}`
 * segments match one segment and `{name+}` segments match one or more (file paths, refs), or a
 * RegExp used as is. Matching is case-insensitive because GitHub's owner and repo names are.
 */
export type PathPattern = string | RegExp;

const compiled = new Map<string, RegExp>();

function compile(template: string): RegExp {
  let regex = compiled.get(template);
  if (!regex) {
    const source = template
      .split(/(\{[A-Za-z_]+\+?\})/)
      .map((part) => {
        const placeholder = /^\{([A-Za-z_]+)(\+?)\}$/.exec(part);
        if (!placeholder) return part.replace(/[.*+?^$()|[\]\\]/g, "\\$&");
        return placeholder[2] ? `(?<${placeholder[1]}>.+)` : `(?<${placeholder[1]}>[^/]+)`;
      })
      .join("");
    regex = new RegExp(`^${source}$`, "i");
    compiled.set(template, regex);
  }
  return regex;
}

function decodeSegment(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value; // a malformed escape is the caller's bug; keep it visible rather than throw
  }
}

/** The decoded `{name}` values when `path` matches, else null. */
export function matchPath(pattern: PathPattern, path: string): Record<string, string> | null {
  const match = (typeof pattern === "string" ? compile(pattern) : pattern).exec(path);
  if (!match) return null;
  const params: Record<string, string> = {};
  for (const [name, value] of Object.entries(match.groups ?? {})) {
    params[name] = decodeSegment(value);
  }
  return params;
}
