/**
 * RFC 7515 §2: base64url without padding; RFC 4648 §3.5: unused trailing bits are zero. An empty
 * segment is the spelling of no bytes (an `alg: none` token's signature); jose refuses what it means.
 */
const BASE64URL = /^[A-Za-z0-9_-]*$/;

/**
 * Is each of the three segments of this compact JWT the one canonical base64url spelling of its bytes?
 * Node's decoder (which jose uses) also takes `=` padding, the `+` and `/` of plain base64, whitespace
 * and non-zero trailing bits, so one signed token has many spellings that all verify: a relay token
 * with `=` appended was accepted. Anything keyed or compared on the token text would then see different
 * tokens where there is one; a token that is not spelled exactly as signed is refused instead.
 */
export function isCanonicalCompactJwt(token: string): boolean {
  const segments = token.split(".");
  return segments.length === 3 && segments.every(isCanonicalBase64url);
}

function isCanonicalBase64url(segment: string): boolean {
  return BASE64URL.test(segment) && Buffer.from(segment, "base64url").toString("base64url") === segment;
}
