import { createHash } from "node:crypto";

/**
 * The Content-Security-Policy of a relay page: nothing from elsewhere, and only the page's own inline
 * style and script, by hash (no `unsafe-inline`, so injected markup could neither run nor restyle).
 */
export function pagePolicy(inline: { style: string; script?: string }): string {
  const script = inline.script === undefined ? "" : ` script-src ${hash(inline.script)};`;
  return `default-src 'none'; style-src ${hash(inline.style)};${script} base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;
}

const hash = (text: string) => `'sha256-${createHash("sha256").update(text, "utf8").digest("base64")}'`;
