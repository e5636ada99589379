/** SPEC §3: events the app caused itself (sender `<app-slug>[bot]`) are not relayed back. */
export function isOwnEvent(payload: unknown, appSlug: string | null): boolean {
  if (appSlug === null) return false;
  const sender = (payload as { sender?: { login?: unknown } } | null)?.sender;
  return typeof sender?.login === "string" && sender.login.toLowerCase() === `${appSlug}[bot]`.toLowerCase();
}
