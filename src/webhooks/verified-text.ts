/**
 * The exact body text of each verified delivery, by its parsed payload: the payload is stored for
 * its dispatches as the text GitHub signed, never re-encoded (a 20 KB PR costs a JSON.stringify per
 * delivery otherwise). Weak: an answered delivery's text goes with its payload.
 */
const texts = new WeakMap<object, string>();

export function rememberVerifiedText(payload: object, text: string): void {
  texts.set(payload, text);
}

/** The text `payload` was parsed from, when it came in through the webhook answer; else its JSON. */
export function payloadText(payload: unknown): string {
  return (payload !== null && typeof payload === "object" ? texts.get(payload) : undefined) ?? JSON.stringify(payload);
}
