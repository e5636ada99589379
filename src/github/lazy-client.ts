/** The part of an Octokit that may be used before it exists: its request hooks (before-after-hook). */
export interface Hooks {
  (...args: unknown[]): unknown;
  before(...args: unknown[]): unknown;
  after(...args: unknown[]): unknown;
  error(...args: unknown[]): unknown;
  wrap(...args: unknown[]): unknown;
  remove(...args: unknown[]): unknown;
}

/** A client with request hooks: an Octokit. */
export interface HookedClient {
  hook: Hooks;
}

/**
 * A client built by `build` on first use, standing in for it until then. Probot's `Context` registers a
 * request hook on each event's client and marks it with a symbol as soon as it is created; both are
 * kept here and handed to the client when it is built, so a client nobody sends a request with is
 * never built. Anything else (a method, `rest`, `auth`, `instanceof`) builds it and is the client's own.
 */
export function lazyClient<T extends HookedClient>(build: () => T, prototype: object): T {
  let client: T | undefined;
  const replays: Array<(hooks: Hooks) => void> = [];
  const symbols = new Map<symbol, unknown>();
  const real = (): T => {
    if (client) return client;
    client = build();
    for (const [symbol, value] of symbols) Reflect.set(client, symbol, value);
    for (const replay of replays) replay(client.hook);
    return client;
  };
  const deferred =
    (method: "before" | "after" | "error" | "wrap" | "remove") =>
    (...args: unknown[]): unknown => {
      if (client) return client.hook[method](...args);
      replays.push((built) => built[method](...args));
      return undefined;
    };
  const hooks: Hooks = Object.assign((...args: unknown[]) => real().hook(...args), {
    before: deferred("before"),
    after: deferred("after"),
    error: deferred("error"),
    wrap: deferred("wrap"),
    remove: deferred("remove"),
  });
  return new Proxy(Object.create(prototype) as T, {
    get(target, property) {
      if (!client && property === "hook") return hooks;
      // Probot awaits the client it is handed: a client is no promise, and awaiting it is no use.
      if (!client && property === "then") return undefined;
      // Symbols are markers (Probot's "hook added"): kept without building the client.
      if (!client && typeof property === "symbol") return symbols.get(property) ?? Reflect.get(target, property);
      const built = real();
      return Reflect.get(built, property, built);
    },
    set(_target, property, value) {
      if (!client && typeof property === "symbol") {
        symbols.set(property, value);
        return true;
      }
      return Reflect.set(real(), property, value);
    },
    has: (_target, property) => Reflect.has(real(), property),
    ownKeys: () => Reflect.ownKeys(real()),
    getOwnPropertyDescriptor(_target, property) {
      const descriptor = Reflect.getOwnPropertyDescriptor(real(), property);
      // A proxy may only report a property non-configurable if its target has it so.
      return descriptor && { ...descriptor, configurable: true };
    },
  });
}
