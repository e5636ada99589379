import { lazyClient, type HookedClient } from "./lazy-client";

/** An Octokit auth strategy: built from the client's options, it authenticates and wraps requests. */
export interface AuthStrategyResult {
  (options?: unknown): Promise<unknown>;
  hook: (request: unknown, route: unknown, parameters?: unknown) => Promise<unknown>;
}
export type AuthStrategy = (options: never) => AuthStrategyResult;

/** What Octokit hands a strategy besides the client's `auth` option (see @octokit/core). */
interface StrategyOptions {
  octokit?: object;
  octokitOptions?: Record<string, unknown>;
  appId?: unknown;
  privateKey?: unknown;
}

/**
 * `strategy` (octokit-auth-probot's), built on first use instead of when the client is constructed,
 * and handing out event clients that are built on first use too. Probot gives every webhook event a
 * new installation Octokit (its webhooks transform asks the app's client for an "event-octokit"):
 * plugins, the REST method table and throttling set up, and an auth strategy whose `createAppAuth`
 * builds a 15,000-entry token cache even when handed Probot's shared one — about a fifth of the
 * relay's intake CPU for clients its handlers never use. Built lazily, a client that sends no request
 * costs nothing, and one that does is exactly the client Probot would have made (same options, same
 * cache, same installation).
 */
export function lazyAuthStrategy<S extends AuthStrategy>(strategy: S): S {
  const lazy = (options: Parameters<S>[0]): AuthStrategyResult => {
    let built: AuthStrategyResult | undefined;
    const real = (): AuthStrategyResult => (built ??= strategy(options));
    const given = options as StrategyOptions;
    const isApp = "appId" in given && "privateKey" in given;
    // The app's installation auth options are the same for every installation: asked for once.
    let installationAuth: Record<string, unknown> | undefined;
    const eventClient = async (installationId: number) => {
      installationAuth ??= await installationAuthOptions(real(), installationId);
      return lazyEventClient(given, { ...installationAuth, installationId });
    };
    return Object.assign(
      (authOptions?: unknown) => {
        const installationId = isApp ? eventInstallationId(authOptions) : null;
        return installationId === null ? real()(authOptions) : eventClient(installationId);
      },
      { hook: (request: unknown, route: unknown, parameters?: unknown) => real().hook(request, route, parameters) },
    );
  };
  return lazy as S;
}

/**
 * The installation an "event-octokit" request is for, or null where octokit-auth-probot answers
 * otherwise (no installation in the payload, or the installation's access revoked: an
 * unauthenticated client) and the strategy itself should.
 */
function eventInstallationId(authOptions: unknown): number | null {
  const { type, event } = (authOptions ?? {}) as {
    type?: unknown;
    event?: { name?: unknown; payload?: { action?: unknown; installation?: { id?: unknown } | null } };
  };
  if (type !== "event-octokit") return null;
  const id = event?.payload?.installation?.id;
  if (typeof id !== "number") return null;
  const revoked = event?.name === "installation" && ["suspend", "deleted"].includes(String(event.payload?.action));
  return revoked ? null : id;
}

/**
 * What `createAppAuth` hands an installation client's auth (its state, the token cache included),
 * taken from the app's own auth through an identity factory, so nothing of it is re-derived here.
 */
async function installationAuthOptions(
  appAuth: AuthStrategyResult,
  installationId: number,
): Promise<Record<string, unknown>> {
  return (await appAuth({
    type: "installation",
    installationId,
    factory: (factoryOptions: Record<string, unknown>) => factoryOptions,
  })) as Record<string, unknown>;
}

/**
 * The event's installation client as octokit-auth-probot builds it — the app client's class and
 * options, with the installation's auth options — built when first used.
 */
function lazyEventClient(given: StrategyOptions, auth: Record<string, unknown>): HookedClient {
  const Client = (given.octokit as { constructor: new (options: Record<string, unknown>) => HookedClient }).constructor;
  return lazyClient(() => new Client({ ...given.octokitOptions, auth }), Client.prototype as object);
}
