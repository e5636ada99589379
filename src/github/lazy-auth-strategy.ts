/** An Octokit auth strategy: built from the client's options, it authenticates and wraps requests. */
export interface AuthStrategyResult {
  (options?: unknown): Promise<unknown>;
  hook: (request: unknown, route: unknown, parameters?: unknown) => Promise<unknown>;
}
export type AuthStrategy = (options: never) => AuthStrategyResult;

/**
 * `strategy`, built on first use instead of when the client is constructed. Probot gives every
 * webhook event a new installation Octokit, and its strategy (`octokit-auth-probot` → `createAppAuth`)
 * builds a 15,000-entry token cache each time even when handed Probot's shared one — about a tenth of
 * the relay's intake CPU for a client its handlers never use. Built lazily, a client that sends no
 * request costs nothing, and one that does authenticates exactly as before (same options, same cache).
 */
export function lazyAuthStrategy<S extends AuthStrategy>(strategy: S): S {
  const lazy = (options: Parameters<S>[0]): AuthStrategyResult => {
    let built: AuthStrategyResult | undefined;
    const real = (): AuthStrategyResult => (built ??= strategy(options));
    return Object.assign((authOptions?: unknown) => real()(authOptions), {
      hook: (request: unknown, route: unknown, parameters?: unknown) => real().hook(request, route, parameters),
    });
  };
  return lazy as S;
}
