/** What a read-decide-write attempt answers when another writer committed first: decide again. */
export const LOST_RACE: unique symbol = Symbol("lost race");

/**
 * Runs `attempt` (a read, a decision, a conditional write) until it answers anything but LOST_RACE,
 * at most `attempts` times. Writers that lost together would retry together and collide again, so
 * each retry first waits a random moment, up to 50 ms, growing with the attempt. `what` names the
 * contended record in the error thrown when no attempt settles.
 */
export async function retryContended<T>(
  what: string,
  attempts: number,
  attempt: (index: number) => Promise<T | typeof LOST_RACE>,
): Promise<T> {
  for (let index = 0; index < attempts; index++) {
    if (index > 0) await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(50, 2 ** (index - 1))));
    const outcome = await attempt(index);
    if (outcome !== LOST_RACE) return outcome;
  }
  throw new Error(`${what} stayed contended for ${attempts} attempts`);
}
