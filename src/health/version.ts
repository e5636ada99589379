// Read at runtime rather than imported so the compiled tree does not need package.json inside rootDir.
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const RELAY_VERSION: string = (require("../../package.json") as { version: string }).version;
