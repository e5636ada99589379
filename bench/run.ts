import { benchCallbackLatency } from "./callback-latency";
import { benchDispatchLatency } from "./dispatch-latency";
import { benchLambdaColdImport } from "./lambda-cold-import";
import { report } from "./report";

async function main(): Promise<void> {
  report([await benchDispatchLatency(), await benchCallbackLatency(), benchLambdaColdImport()]);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
