import { createHmac, randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { CliCommand } from "./cli-command";
import { EXIT, UsageError, type CliIo } from "./cli-io";
import { parseCommandArgs } from "./option-table";
import { withDotEnv } from "./read-dot-env";

const OPTIONS = {
  url: {
    type: "string",
    arg: "url",
    help: "where to post (default http://localhost:$PORT/api/github/webhooks, PORT default 3000)",
  },
  secret: {
    type: "string",
    arg: "secret",
    help: "signing secret (default $WEBHOOK_SECRET, else WEBHOOK_SECRET in ./.env); prefer the variable: arguments show in ps",
  },
  delivery: {
    type: "string",
    arg: "id",
    help: "X-GitHub-Delivery to send, e.g. the recorded one to test redelivery (default: a new UUID)",
  },
} as const;

/**
 * `ci-relay replay <event> <payload.json>`: posts a recorded delivery's bytes exactly as they are in
 * the file, signed with X-Hub-Signature-256 as GitHub signs. This is the way round smee, which
 * re-serialises the JSON it forwards and so breaks the signature of bodies GitHub escaped (`\u003c`).
 */
export const replayCommand: CliCommand = {
  name: "replay",
  summary: "sign and post a recorded webhook delivery, byte for byte, to a relay",
  synopsis: "<event> <payload.json>",
  options: OPTIONS,
  environment: {
    WEBHOOK_SECRET: "signing secret when --secret is not given (also read from ./.env)",
    PORT: "port of the default --url (default 3000)",
  },
  output: '{"ok", "status", "event", "delivery", "bytes", "answer"}, one JSON line',
  run: async (argv: string[], io: CliIo) => {
    let request: { url: string; event: string; delivery: string; secret: string; body: Buffer };
    try {
      const { values, positionals } = parseCommandArgs("replay", argv, OPTIONS);
      const [event, file, ...rest] = positionals;
      if (!event) throw new UsageError("<event>", "required, e.g. pull_request (the X-GitHub-Event of the recording)");
      if (!file) throw new UsageError("<payload.json>", "required: the delivery's body as GitHub sent it");
      if (rest.length > 0) throw new UsageError(rest[0], "replay takes an event and one file");
      const env = withDotEnv(io.env);
      const secret = values.secret || env.WEBHOOK_SECRET;
      if (!secret) throw new UsageError("WEBHOOK_SECRET", "required to sign (or --secret)");
      const body = await readFile(file).catch(() => {
        throw new UsageError("<payload.json>", `${file} cannot be read`);
      });
      const url = values.url ?? `http://localhost:${env.PORT ?? "3000"}/api/github/webhooks`;
      if (!URL.canParse(url)) throw new UsageError("--url", "not a URL");
      request = { url, event, delivery: values.delivery ?? randomUUID(), secret, body };
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      io.error(`ci-relay: ${error.message}`);
      return EXIT.usage;
    }
    const signature = `sha256=${createHmac("sha256", request.secret).update(request.body).digest("hex")}`;
    let response: Response;
    try {
      response = await io.fetch(request.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "user-agent": "GitHub-Hookshot/ci-relay-replay",
          "x-github-event": request.event,
          "x-github-delivery": request.delivery,
          "x-hub-signature-256": signature,
        },
        body: request.body,
        signal: AbortSignal.timeout(30_000),
      });
    } catch {
      io.error(`ci-relay: --url: ${request.url} could not be reached`);
      return EXIT.failed;
    }
    const text = await response.text();
    let answer: unknown = text;
    try {
      answer = JSON.parse(text) as unknown;
    } catch {
      // Probot answers some deliveries with plain text ("ok"); shown as it is.
    }
    io.print(
      JSON.stringify({
        ok: response.ok,
        status: response.status,
        event: request.event,
        delivery: request.delivery,
        bytes: request.body.length,
        answer,
      }),
    );
    if (response.ok) return EXIT.ok;
    io.error(`ci-relay: the relay answered ${response.status}`);
    return EXIT.failed;
  },
};
