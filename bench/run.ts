import { benchCallbackLatency } from "./callback-latency";
import { benchDispatchLatency } from "./dispatch-latency";
import { report } from "./report";

async function main(): Promise<void> {
  report([await benchDispatchLatency(), await benchCallbackLatency()]);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
