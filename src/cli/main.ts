import { runCli } from "./run-cli";

/** `npx ci-relay ...` (bin/ci-relay.js). */
runCli(process.argv.slice(2), { env: process.env, fetch, print: (line) => process.stdout.write(`${line}\n`) }).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`ci-relay: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
