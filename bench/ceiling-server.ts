import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";

/**
 * The ceiling reference of `npm run bench`: the least a webhook receiver must do — read the body,
 * check its HMAC-SHA256 signature, parse the JSON — in a bare Node server, nothing else.
 */
const secret = process.env.WEBHOOK_SECRET ?? "";
const server = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on("data", (chunk: Buffer) => chunks.push(chunk));
  request.on("end", () => {
    const body = Buffer.concat(chunks);
    const expected = Buffer.from(`sha256=${createHmac("sha256", secret).update(body).digest("hex")}`);
    const given = Buffer.from(String(request.headers["x-hub-signature-256"] ?? ""));
    let ok = expected.length === given.length && timingSafeEqual(expected, given);
    if (ok) {
      try {
        ok = typeof JSON.parse(body.toString("utf8")) === "object";
      } catch {
        ok = false;
      }
    }
    response.writeHead(ok ? 200 : 400, { "content-type": "application/json" }).end(ok ? '{"ok":true}' : '{"ok":false}');
  });
});
server.listen(Number(process.env.PORT), "127.0.0.1", () => console.log("ready"));
