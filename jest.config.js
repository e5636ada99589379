/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  transform: { "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.test.json" }] },
  testMatch: ["<rootDir>/test/**/*.test.ts"],
  // e2e suites start server processes and share one Redis; keep the machine (2 cores) unsaturated.
  maxWorkers: 2,
  testTimeout: 30000,
};
