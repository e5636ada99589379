import { createServer } from "node:http";
import { createNodeMiddleware, Probot } from "probot";

/**
 * The Probot reference of `npm run bench`: a Probot 13 app whose pull_request handler does nothing,
 * served by Probot's own middleware, so every delivery pays exactly what Probot itself costs.
 */
const probot = new Probot({
  appId: Number(process.env.APP_ID),
  privateKey: process.env.PRIVATE_KEY,
  secret: process.env.WEBHOOK_SECRET,
  logLevel: "warn",
});
const middleware = createNodeMiddleware(
  (app: Probot) => {
    app.on("pull_request", async () => undefined);
  },
  { probot },
);
createServer((request, response) => void middleware(request, response)).listen(
  Number(process.env.PORT),
  "127.0.0.1",
  () => console.log("ready"),
);
