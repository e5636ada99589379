// Bundles each Lambda handler into one minified file (dist/lambda/<name>.js + source map), so a
// cold start reads one file instead of resolving thousands of modules in node_modules.
import { build } from "esbuild";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const HANDLERS = ["webhook", "http", "scheduled"];
const outdir = `${root}dist/lambda`;

/**
 * Modules the handlers import but never run, replaced in the bundle by ones that say so if reached:
 * @sentry/node (with OpenTelemetry behind it) is loaded by Probot's log stream for a Sentry DSN the
 * relay never gives it (see src/lambda/sentry-left-out.ts); smee-client (with undici behind it) by
 * Probot's server for a webhook proxy a Lambda never starts (src/lambda/smee-left-out.ts).
 */
const LEFT_OUT = {
  "@sentry/node": `${root}src/lambda/sentry-left-out.ts`,
  "smee-client": `${root}src/lambda/smee-left-out.ts`,
};
const leaveOut = {
  name: "leave-out",
  setup(build) {
    const filter = new RegExp(
      `^(${Object.keys(LEFT_OUT)
        .map((name) => name.replace(/[/.]/g, "\\$&"))
        .join("|")})$`,
    );
    build.onResolve({ filter }, (args) => ({ path: LEFT_OUT[args.path] }));
  },
};

const result = await build({
  absWorkingDir: root,
  entryPoints: HANDLERS.map((name) => ({ in: `src/lambda/${name}.ts`, out: name })),
  outdir,
  bundle: true,
  platform: "node",
  target: "node20",
  format: "cjs",
  minify: true,
  sourcemap: true,
  // Module names stay readable in stack traces (Probot and pino log them); costs a few KB.
  keepNames: true,
  metafile: true,
  plugins: [leaveOut],
  logLevel: "warning",
});
for (const [file, { bytes }] of Object.entries(result.metafile.outputs)) {
  if (file.endsWith(".js")) console.log(`${file.replace(`${root}`, "")}  ${(bytes / 1024).toFixed(0)} KiB`);
}
