/** Headers that carry credentials: never logged (Probot's HTTP logger logs request headers). */
const SECRET_HEADERS = new Set([
  "authorization",
  "proxy-authorization",
  "cookie",
  "x-hub-signature",
  "x-hub-signature-256",
]);

export function redactHeaders(headers: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [
      name,
      SECRET_HEADERS.has(name.toLowerCase()) ? "[redacted]" : value,
    ]),
  );
}
