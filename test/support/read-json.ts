/**
 * JSON read as the type the relay's contract gives it (the SPEC §5 error body, the runs list, a
 * delivery view, …). `Response.json()` and `JSON.parse` return `any`, which would switch type checking
 * off for every field a test reads; the type here only says which fields exist, the test still asserts
 * their values.
 */
export async function readJson<T>(response: Pick<Response, "json">): Promise<T> {
  return (await response.json()) as T;
}

export function parseJson<T>(text: string): T {
  return JSON.parse(text) as T;
}
