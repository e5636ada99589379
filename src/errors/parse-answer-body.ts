/**
 * A relay answer's body as a JSON object (SPEC §5 failures and the endpoints' successes are objects);
 * null when it is not one, so callers fall back to the HTTP status. Pure.
 */
export function parseAnswerBody(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === "object" && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}
