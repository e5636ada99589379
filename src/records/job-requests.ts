import type { Store } from "../store/store";
import { RECORD_TTL_SECONDS } from "./dispatches";
import { keys } from "./keys";

/**
 * SPEC §3 queue transport records: the `relay:jobs` stream, a marker per appended job request (so a
 * retried task does not append it again) and each queue downstream's `max_deliveries` for workers.
 */

/**
 * Appends one job request unless its marker says it was appended already: the XADD, the marker and
 * the downstream's `max_deliveries` commit together. True when this call appended it.
 */
export function appendJobRequest(
  store: Pick<Store, "writeIf">,
  request: { request_id: string; job_id: string; downstream: string } & Record<string, string>,
  maxDeliveries: number,
): Promise<boolean> {
  const marker = keys.jobRequests.enqueued(request.request_id, request.job_id);
  return store.writeIf(marker, null, [
    { op: "xadd", key: keys.jobRequests.stream, fields: { ...request } },
    { op: "set", key: marker, value: "1", ttlSeconds: RECORD_TTL_SECONDS },
    {
      op: "set",
      key: keys.jobRequests.maxDeliveries(request.downstream),
      value: String(maxDeliveries),
      ttlSeconds: RECORD_TTL_SECONDS,
    },
  ]);
}
