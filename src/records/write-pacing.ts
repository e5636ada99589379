import type { SlotReservation } from "../store/next-slot";
import type { Store } from "../store/store";
import { keys } from "./keys";

/** Reserves the installation's next write slot, shared by every process (see `Store.reserveSlot`). */
export function reserveWriteSlot(
  store: Pick<Store, "reserveSlot">,
  installationId: number,
  intervalMs: number,
  maxWaitMs: number,
): Promise<SlotReservation> {
  return store.reserveSlot(keys.writePacing(installationId), intervalMs, maxWaitMs);
}
