#!/usr/bin/env node
"use strict";
// The runner CLI, compiled from src/cli (npm run build).
require("../lib/cli/main.js");
