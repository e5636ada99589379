import { z } from "zod";

/** ISO text, or (in push payloads, for historical reasons) epoch seconds. */
const githubTime = z.union([z.string(), z.number()]).nullish();

const timesSchema = z.object({
  pull_request: z.object({ updated_at: githubTime }).nullish(),
  repository: z.object({ pushed_at: githubTime }).nullish(),
});

/**
 * GitHub's own time for an upstream event, read from the payload (epoch ms), or null. GitHub sends
 * no delivery timestamp header; the payload carries the event's time instead: `pull_request.updated_at`
 * (the change that caused a PR delivery) and, for a push, `repository.pushed_at` (epoch seconds).
 * A redelivery carries the original payload, so this stays the event's time however late it arrives.
 */
export function githubEventTime(eventName: string, payload: unknown): number | null {
  const parsed = timesSchema.safeParse(payload);
  if (!parsed.success) return null;
  const value =
    eventName === "pull_request"
      ? parsed.data.pull_request?.updated_at
      : eventName === "push"
        ? parsed.data.repository?.pushed_at
        : null;
  if (value === null || value === undefined) return null;
  const ms = typeof value === "number" ? value * 1000 : Date.parse(value);
  return Number.isFinite(ms) ? ms : null;
}
