import {
  checkWebhookBody,
  nestsDeeperThan,
  WEBHOOK_MAX_DEPTH,
} from "../../../../src/http/webhook-intake/check-webhook-body";

const HEADERS = {
  "content-type": "application/json",
  "x-github-event": "pull_request",
  "x-hub-signature-256": "sha256=00",
  "x-github-delivery": "d-1",
};
const check = (body: string, headers: Record<string, string> = HEADERS) => checkWebhookBody(headers, Buffer.from(body));
const refusal = (body: string, headers?: Record<string, string>) => {
  const result = check(body, headers);
  return "refusal" in result ? { kind: result.refusal.kind, message: result.refusal.message } : null;
};

describe("checkWebhookBody", () => {
  it("passes a JSON object with its delivery headers through as text and parsed", () => {
    expect(check('{"action":"opened","installation":{"id":11}}')).toEqual({
      webhook: {
        id: "d-1",
        name: "pull_request",
        signature: "sha256=00",
        text: '{"action":"opened","installation":{"id":11}}',
        payload: { action: "opened", installation: { id: 11 } },
      },
    });
  });

  it.each(["null", '""', "0", "-1", '"x"', "[]", "true"])("refuses %s: not a JSON object", (body) => {
    expect(refusal(body)).toEqual({ kind: "validation-failed", message: "webhook payload must be a JSON object" });
  });

  it.each([["eleven"], [1.5], [-1], [0], [{ id: 1 }], [2 ** 60]])("refuses installation.id %p", (id) => {
    expect(refusal(JSON.stringify({ installation: { id } }))?.message).toBe(
      "installation.id must be a positive integer",
    );
  });

  it("accepts a payload without an installation, or with a null one", () => {
    expect(refusal("{}")).toBeNull();
    expect(refusal('{"installation":null}')).toBeNull();
  });

  it.each([[""], ["  "], ["Pull Request"], ["pull_request\u0000"]])("refuses the event name %p", (event) => {
    expect(refusal("{}", { ...HEADERS, "x-github-event": event })?.kind).toBe("validation-failed");
  });

  it("names the headers that are missing or empty", () => {
    expect(refusal("{}", { "content-type": "application/json", "x-github-delivery": "" })?.message).toBe(
      "required headers missing or empty: x-github-event, x-hub-signature-256, x-github-delivery",
    );
  });

  it("refuses another content type", () => {
    expect(refusal("{}", { ...HEADERS, "content-type": "application/x-www-form-urlencoded" })?.kind).toBe(
      "validation-failed",
    );
  });

  it(`refuses nesting deeper than ${WEBHOOK_MAX_DEPTH}, and accepts it at the limit`, () => {
    const nested = (depth: number) => `{"a":${"[".repeat(depth - 1)}${"]".repeat(depth - 1)}}`;
    expect(refusal(nested(WEBHOOK_MAX_DEPTH))).toBeNull();
    expect(refusal(nested(WEBHOOK_MAX_DEPTH + 1))?.message).toBe(
      `payload nests deeper than ${WEBHOOK_MAX_DEPTH} levels`,
    );
    expect(refusal(nested(5_000))?.kind).toBe("validation-failed");
  });
});

describe("nestsDeeperThan", () => {
  it("does not count brackets inside strings, escaped quotes included", () => {
    expect(nestsDeeperThan(JSON.stringify({ a: "[[[[{{{{", b: 'x\\"[[[[' }), 2)).toBe(false);
    expect(nestsDeeperThan('{"a":[[1]]}', 2)).toBe(true);
    expect(nestsDeeperThan('{"a":[[1]]}', 3)).toBe(false);
  });

  it("ends a string only at a quote after an even run of backslashes", () => {
    expect(nestsDeeperThan('{"a":"\\\\"}[[[', 2)).toBe(true); // two backslashes, then the closing quote: the brackets count
    expect(nestsDeeperThan('{"a":"\\\\\\"[[["}', 2)).toBe(false); // three backslashes: the quote is escaped, the brackets are inside
    expect(nestsDeeperThan('{"a":"[[[[', 2)).toBe(false); // unterminated: left to JSON.parse
  });

  /** The definition, a character at a time: a backslash in a string escapes the next character. */
  function reference(text: string, limit: number): boolean {
    let [depth, inString] = [0, false];
    for (let i = 0; i < text.length; i++) {
      const char = text[i];
      if (inString) {
        if (char === "\\") i++;
        else if (char === '"') inString = false;
      } else if (char === '"') inString = true;
      else if (char === "{" || char === "[") {
        if (++depth > limit) return true;
      } else if (char === "}" || char === "]") depth--;
    }
    return false;
  }

  it("agrees with the character-at-a-time definition on generated text", () => {
    let seed = 7;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648;
    const alphabet = ['"', "\\", "[", "]", "{", "}", "a", ","];
    for (let n = 0; n < 5_000; n++) {
      const length = Math.floor(random() * 40);
      const text = Array.from({ length }, () => alphabet[Math.floor(random() * alphabet.length)]).join("");
      const limit = Math.floor(random() * 4);
      expect([text, nestsDeeperThan(text, limit)]).toEqual([text, reference(text, limit)]);
    }
  });
});
