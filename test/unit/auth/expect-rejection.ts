import { RelayError, type FailureKind } from "../../../src/errors/failure-kinds";

/**
 * Awaits a promise that must fail with a RelayError of this kind and reason, and checks that the
 * error leaks nothing of the token: neither the whole text nor any of its segments.
 */
export async function expectRejection(
  pending: Promise<unknown>,
  kind: FailureKind,
  degradedReason: string,
  token?: string,
): Promise<void> {
  const error = await pending.then(
    () => {
      throw new Error(`expected ${kind} (${degradedReason}) but it succeeded`);
    },
    (rejection: unknown) => rejection,
  );
  expect(error).toBeInstanceOf(RelayError);
  expect(error).toMatchObject({ kind, degradedReason });
  for (const part of token ? [token, ...token.split(".").filter((segment) => segment.length > 8)] : []) {
    expect((error as RelayError).message).not.toContain(part);
    expect(String((error as RelayError).stack)).not.toContain(part);
  }
}
