// Runs the pinned Serverless Framework 3 (node_modules) with its phoning home switched off: no
// telemetry, no notifications fetched from Serverless Inc., no update checks. `npm run deploy` and
// `npm run lambda:local` go through here; arguments are passed on as they are.
import { spawn } from "node:child_process";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const bin = require.resolve("serverless/bin/serverless.js");
const env = {
  ...process.env,
  SLS_TELEMETRY_DISABLED: "1",
  SLS_NOTIFICATIONS_MODE: "off",
  SLS_DISABLE_AUTO_UPDATE: "1",
  SLS_INTERACTIVE_SETUP_DISABLE: "1",
};
const child = spawn(process.execPath, [bin, ...process.argv.slice(2)], { stdio: "inherit", env });
// `serverless offline` runs until stopped: whoever stops this script stops it too.
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => {
  process.exitCode = code ?? (signal ? 1 : 0);
});
