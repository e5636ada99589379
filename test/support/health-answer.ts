import type { DegradedReason } from "../../src/health/decide-health";
import type { Store } from "../../src/store/store";

/** SPEC §6 `GET /relay/health` body: the same on 200 and 503. */
export interface HealthBody {
  ok: boolean;
  service: "ci-relay";
  version: string;
  github: {
    configured: boolean;
    credentialRef: string;
    valuesPrinted: false;
    lastOkAt: string | null;
    failingSince: string | null;
  };
  store: { kind: Store["kind"]; ok: boolean };
  config: { loaded: boolean; source: string };
  outbox: { depth: number | null; oldestDueSeconds: number | null };
  degraded: DegradedReason[];
  capabilities: string[];
}
