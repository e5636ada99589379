const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/**
 * Other spellings of the same signed bytes, each of which Node's lenient base64url decoder (and so jose)
 * reads back to the original: padding, plain-base64 letters, whitespace, non-zero unused trailing bits.
 * A verifier must refuse every one (only the canonical spelling was signed).
 */
export function respellings(token: string): [string, string][] {
  const [header, payload, signature] = token.split(".");
  const join = (h: string, p: string, s: string) => [h, p, s].join(".");
  const variants: [string, string][] = [
    ["`=` after the signature", join(header, payload, `${signature}=`)],
    ["`==` after the signature", join(header, payload, `${signature}==`)],
    ["`=` after the header", join(`${header}=`, payload, signature)],
    ["`=` after the payload", join(header, `${payload}=`, signature)],
    ["a newline inside the signature", join(header, payload, `${signature.slice(0, 4)}\n${signature.slice(4)}`)],
    ["a trailing newline", `${token}\n`],
  ];
  for (const [name, segment, rebuild] of [
    ["signature", signature, (s: string) => join(header, payload, s)],
    ["payload", payload, (s: string) => join(header, s, signature)],
  ] as const) {
    // with 2 or 3 characters in the last quantum, the low bit of the last one is never decoded
    if (segment.length % 4 !== 0) {
      const last = ALPHABET.indexOf(segment[segment.length - 1]);
      variants.push([`unused trailing bits set in the ${name}`, rebuild(segment.slice(0, -1) + ALPHABET[last ^ 1])]);
    }
    const plain = segment.replace(/-/g, "+").replace(/_/g, "/");
    if (plain !== segment) variants.push([`the ${name} in the plain base64 alphabet`, rebuild(plain)]);
  }
  return variants;
}
