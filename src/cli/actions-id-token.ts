import { z } from "zod";

const tokenAnswer = z.object({ value: z.string().min(1) });

export class IdTokenUnavailable extends Error {
  constructor(readonly reason: string) {
    super(`the GitHub Actions OIDC token is unavailable (${reason})`);
    this.name = "IdTokenUnavailable";
  }
}

/**
 * Asks the Actions runtime for an OIDC token with `audience` (the job needs `id-token: write`).
 * The request URL already carries a query string; the audience is appended to it.
 */
export async function fetchActionsIdToken(
  env: NodeJS.ProcessEnv,
  audience: string,
  fetchImpl: typeof fetch = fetch,
): Promise<string> {
  const url = env.ACTIONS_ID_TOKEN_REQUEST_URL;
  const requestToken = env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
  if (!url || !requestToken) throw new IdTokenUnavailable("id-token-permission-missing");
  const separator = url.includes("?") ? "&" : "?";
  let response: Response;
  try {
    response = await fetchImpl(`${url}${separator}audience=${encodeURIComponent(audience)}`, {
      headers: { authorization: `Bearer ${requestToken}`, accept: "application/json" },
      signal: AbortSignal.timeout(15_000),
    });
  } catch {
    throw new IdTokenUnavailable("runtime-unreachable");
  }
  if (!response.ok) throw new IdTokenUnavailable(`runtime-answered-${response.status}`);
  const parsed = tokenAnswer.safeParse(await response.json().catch(() => null));
  if (!parsed.success) throw new IdTokenUnavailable("runtime-answer-invalid");
  return parsed.data.value;
}
