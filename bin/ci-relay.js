#!/usr/bin/env node
"use strict";
// The CLI, compiled from src/cli (`npm run build`; `npm ci` builds it through `prepare`).
const { existsSync } = require("node:fs");
const { join } = require("node:path");

const main = join(__dirname, "..", "lib", "cli", "main.js");
if (!existsSync(main)) {
  process.stderr.write("ci-relay: lib/cli/main.js: not built yet; run npm run build\n");
  process.exitCode = 1;
} else {
  require(main);
}
