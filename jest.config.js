// A CI log is a file: picocolors (Jest's code frames) and colorette count CI=true as "colours
// supported", so tell them otherwise — in this process, the workers and what the tests start.
if (process.env.CI) process.env.NO_COLOR ??= "1";

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  transform: { "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.test.json" }] },
  testMatch: ["<rootDir>/test/**/*.test.ts"],
  reporters: ["default", "<rootDir>/test/support/summary-reporter.js"],
  // Types are checked once by `npm run typecheck`; per-file checking here would triple the run time.
  // e2e suites start server processes and share one Redis; keep the machine (2 cores) unsaturated.
  maxWorkers: 2,
  testTimeout: 60000,
};
