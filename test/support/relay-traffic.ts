import type { FakeGitHub, RecordedRequest } from "./fake-github";
import type { HudSink } from "./callback-world";
import { dispatchRecordErased, erasedWithRedis, type Erasure } from "./erasure-excuses";
import type { OidcIssuer } from "./oidc-issuer";
import type { RelayServer } from "./server-harness";
import { pullRequestEvent, randomSha, sign } from "./webhooks";

/**
 * The traffic the faults and soak suites drive through a relay fleet, and the ledger that says
 * afterwards what was lost or doubled. Webhooks are PR deliveries sent until a relay answers 200
 * (what GitHub's redelivery, or REDELIVER_MISSED, would do for an answer that never came); every
 * dispatch the fake GitHub accepts is called back (in progress, then completed) until a relay
 * accepts each report. Nothing here asserts timing: the ledger counts.
 */

export type FaultKind =
  "kill-fan-out" | "kill-callback" | "redis-restart-persistent" | "redis-restart-empty" | "redis-flush" | "hud-outage";

/** Faults after which stored-but-unsent work cannot come back: Redis forgot it. */
const DESTRUCTIVE: ReadonlySet<FaultKind> = new Set(["redis-restart-empty", "redis-flush"]);

/** `graceStart`: an erasure excuses only work accepted from here on (see `beforeErasure`); else `at`. */
interface Fault extends Erasure {
  kind: FaultKind;
}

interface OwedItem {
  kind: "dispatch" | "hud";
  key: string;
  /** when the request that got it accepted went out */
  sentAt: number;
  acceptedAt: number;
  arrived: number;
}

interface DeliveryEntry {
  id: string;
  firstSentAt: number;
  /** the accepted request: sent, answered */
  accepted: { sentAt: number; at: number } | null;
  attempts: number;
  /** the last answer that was not a 200, when the sender gave up */
  gaveUp: string | null;
}

type Transition = "in_progress" | "completed";

interface CallbackEntry {
  requestId: string;
  repo: string;
  /** the delivery whose acceptance stored the dispatch record */
  deliveryId: string | undefined;
  dispatchedAt: number;
  accepted: Partial<Record<Transition, { sentAt: number; at: number }>>;
  /** answered no-dispatch: the relay no longer knows the dispatch */
  noDispatchAt: number | null;
  refused: string | null;
}

export interface TrafficOptions {
  github: FakeGitHub;
  issuer: OidcIssuer;
  hud: HudSink;
  pick(): Promise<RelayServer>;
  upstream: string;
  upstreamInstallation: number;
  downstreams: string[];
  /** how long one webhook or callback is retried before the sender gives up; default 120 s */
  retryForMs?: number;
}

export interface Counted {
  expected: number;
  seen: number;
  duplicates: number;
  /** expected, not seen, and nothing excuses it */
  lost: number;
  /** expected, not seen, accepted before a fault that erased Redis and not done by then */
  lostToErasure: number;
}

export interface TrafficReport {
  deliveries: { sent: number; accepted: number; gaveUp: number; retried: number };
  dispatches: Counted;
  callbacks: { sent: number; accepted: number; noDispatch: number; noDispatchExcused: number; refused: number };
  hudRows: Counted;
  faults: Record<string, number>;
  /** examples of what was lost, for a reader to follow up */
  lostExamples: string[];
}

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Post = { status: number; json: Record<string, unknown>; text: string } | { status: null; error: string };

async function post(url: string, headers: Record<string, string>, body: string): Promise<Post> {
  try {
    const response = await fetch(url, { method: "POST", headers, body, signal: AbortSignal.timeout(20_000) });
    const text = await response.text();
    let json: Record<string, unknown> = {};
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // kept as text
    }
    return { status: response.status, json, text };
  } catch (error) {
    return { status: null, error: String(error) };
  }
}

const isSentDispatch = (r: RecordedRequest) =>
  r.method === "POST" && r.path.endsWith("/dispatches") && r.status === 204;
const repoOf = (r: RecordedRequest) =>
  r.path
    .replace(/^\/repos\//, "")
    .replace(/\/dispatches$/, "")
    .toLowerCase();
interface DispatchBody {
  client_payload?: { delivery_id?: string; relay?: { request_id?: string; callback_token?: string } };
}

export class RelayTraffic {
  private readonly deliveries = new Map<string, DeliveryEntry>();
  private readonly callbacks = new Map<string, CallbackEntry>();
  private readonly faults: Fault[] = [];
  private readonly sentWaiters: { kind: "webhook" | "callback"; resolve(relay: RelayServer): void }[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private scanned = 0;
  private callbacksSent = 0;
  private sequence = 0;
  private polling: NodeJS.Timeout | null = null;
  private graceStart: number | null = null;

  constructor(private readonly options: TrafficOptions) {}

  /** Sends one new PR delivery (retried until a relay answers 200); resolves when settled either way. */
  sendDelivery(): Promise<void> {
    const id = `delivery-${process.pid}-${++this.sequence}-${randomSha().slice(0, 6)}`;
    const payload = pullRequestEvent("opened", {
      repo: this.options.upstream,
      installationId: this.options.upstreamInstallation,
      authorAssociation: "MEMBER",
      number: 1_000 + this.sequence,
      headSha: randomSha(),
    });
    const entry: DeliveryEntry = { id, firstSentAt: Date.now(), accepted: null, attempts: 0, gaveUp: null };
    this.deliveries.set(id, entry);
    const body = JSON.stringify(payload);
    const headers = (secret: string) => ({
      "content-type": "application/json",
      "user-agent": "GitHub-Hookshot/relay-traffic",
      "x-github-event": "pull_request",
      "x-github-delivery": id,
      "x-hub-signature-256": sign(body, secret),
    });
    return this.track(
      this.retry(
        async (relay) => post(relay.url("/api/github/webhooks"), headers(relay.webhookSecret), body),
        "webhook",
        (answer, sentAt) => {
          if (answer.status === 200) entry.accepted = { sentAt, at: Date.now() };
        },
        (attempts, last) => {
          entry.attempts = attempts;
          entry.gaveUp = entry.accepted === null ? last : null;
        },
      ),
    );
  }

  /** Starts calling back every dispatch the fake GitHub accepts. */
  startCallbacks(): void {
    this.polling = setInterval(() => this.scanDispatches(), 250);
  }

  stopCallbacks(): void {
    if (this.polling) clearInterval(this.polling);
    this.polling = null;
  }

  /** The relay the next webhook (accepted) or callback (sent) goes to: where a kill hurts. */
  nextSent(kind: "webhook" | "callback"): Promise<RelayServer> {
    return new Promise((resolve) => this.sentWaiters.push({ kind, resolve }));
  }

  /**
   * Records a fault about to be injected; call what it returns once the fault has certainly taken
   * effect (FLUSHALL answered, the server killed): an erasure spans both (see erasure-excuses.ts).
   */
  recordFault(kind: FaultKind): () => void {
    const at = Date.now();
    const fault: Fault = { kind, at, doneAt: at, graceStart: DESTRUCTIVE.has(kind) ? (this.graceStart ?? at) : at };
    this.faults.push(fault);
    this.graceStart = null;
    return () => {
      fault.doneAt = Date.now();
    };
  }

  /**
   * Before an erasure of Redis: waits (at most `graceMs`) until everything accepted before now has
   * arrived, while traffic goes on. The erasure that follows then excuses only work accepted during
   * this wait and still unsent, i.e. truly in flight; older work still missing counts as lost, so a
   * relay that had stalled before the erasure cannot hide behind it. Returns whether it caught up.
   */
  async beforeErasure(graceMs: number): Promise<boolean> {
    const since = Date.now();
    this.graceStart = since;
    const deadline = since + graceMs;
    while (Date.now() < deadline) {
      this.scanDispatches();
      if (this.owed().every((item) => item.acceptedAt >= since || item.arrived > 0)) return true;
      await settle(500);
    }
    return false;
  }

  /** Resolves when every sender is done and nothing that must arrive is missing, or after `timeoutMs`. */
  async settled(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      this.scanDispatches();
      const report = this.report();
      if (this.inFlight.size === 0 && report.dispatches.lost === 0 && report.hudRows.lost === 0) return true;
      await settle(500);
    }
    return false;
  }

  /** Waits for the senders still retrying (each gives up after `retryForMs`). */
  async drained(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  /**
   * Everything owed so far: a dispatch per (accepted delivery, downstream) and a HUD row per accepted
   * callback transition, with how many times each arrived.
   */
  private owed(): OwedItem[] {
    const items: OwedItem[] = [];
    const sent = new Map<string, number>();
    for (const request of this.options.github.requests.filter(isSentDispatch)) {
      const delivery = (request.body as DispatchBody | null)?.client_payload?.delivery_id;
      if (delivery === undefined || !this.deliveries.has(delivery)) continue;
      const key = `${delivery} -> ${repoOf(request)}`;
      sent.set(key, (sent.get(key) ?? 0) + 1);
    }
    for (const { id, accepted } of this.deliveries.values()) {
      if (accepted === null) continue;
      for (const repo of this.options.downstreams) {
        const key = `${id} -> ${repo.toLowerCase()}`;
        items.push({
          kind: "dispatch",
          key,
          sentAt: accepted.sentAt,
          acceptedAt: accepted.at,
          arrived: sent.get(key) ?? 0,
        });
      }
    }
    const rows = new Map<string, number>();
    for (const row of this.options.hud.rows) {
      // SPEC §4's record: the dispatch in `trusted`, the transition in the callback's own `workflow`.
      const body = row.body as {
        trusted?: { request_id?: string };
        untrusted?: { callback_payload?: { workflow?: { status?: string } } };
      };
      const key = `${body.trusted?.request_id} ${String(body.untrusted?.callback_payload?.workflow?.status).toLowerCase()}`;
      rows.set(key, (rows.get(key) ?? 0) + 1);
    }
    for (const entry of this.callbacks.values()) {
      for (const [transition, { sentAt, at }] of Object.entries(entry.accepted) as [
        Transition,
        { sentAt: number; at: number },
      ][]) {
        const key = `${entry.requestId} ${transition}`;
        items.push({ kind: "hud", key, sentAt, acceptedAt: at, arrived: rows.get(key) ?? 0 });
      }
    }
    return items;
  }

  private erasures(): Fault[] {
    return this.faults.filter((f) => DESTRUCTIVE.has(f.kind));
  }

  report(): TrafficReport {
    const examples: string[] = [];
    const counted = (kind: OwedItem["kind"]): Counted => {
      const result: Counted = { expected: 0, seen: 0, duplicates: 0, lost: 0, lostToErasure: 0 };
      for (const item of this.owed().filter((i) => i.kind === kind)) {
        result.expected++;
        if (item.arrived > 0) {
          result.seen++;
          result.duplicates += item.arrived - 1;
        } else if (erasedWithRedis(this.erasures(), item)) {
          result.lostToErasure++;
        } else {
          result.lost++;
          if (examples.filter((e) => e.startsWith(kind)).length < 3)
            examples.push(`${kind} ${item.key} (accepted ${new Date(item.acceptedAt).toISOString()})`);
        }
      }
      return result;
    };
    const dispatches = counted("dispatch");
    const hudRows = counted("hud");

    let accepted = 0;
    let noDispatch = 0;
    let noDispatchExcused = 0;
    let refused = 0;
    for (const entry of this.callbacks.values()) {
      accepted += Object.keys(entry.accepted).length;
      if (entry.refused !== null) refused++;
      if (entry.noDispatchAt === null) continue;
      noDispatch++;
      // Redis forgot the dispatch record: legitimate only if an erasure may have taken it.
      const recordSentAt =
        (entry.deliveryId === undefined ? undefined : this.deliveries.get(entry.deliveryId)?.accepted?.sentAt) ??
        entry.dispatchedAt;
      if (dispatchRecordErased(this.erasures(), { recordSentAt, noDispatchAt: entry.noDispatchAt }))
        noDispatchExcused++;
      else if (examples.length < 9)
        examples.push(`callback for ${entry.requestId} (${entry.repo}) answered no-dispatch without an erasure`);
    }

    const deliveries = [...this.deliveries.values()];
    const faults: Record<string, number> = {};
    for (const fault of this.faults) faults[fault.kind] = (faults[fault.kind] ?? 0) + 1;
    return {
      deliveries: {
        sent: deliveries.length,
        accepted: deliveries.filter((d) => d.accepted !== null).length,
        gaveUp: deliveries.filter((d) => d.gaveUp !== null).length,
        retried: deliveries.filter((d) => d.attempts > 1).length,
      },
      dispatches,
      callbacks: { sent: this.callbacksSent, accepted, noDispatch, noDispatchExcused, refused },
      hudRows,
      faults,
      lostExamples: examples,
    };
  }

  // --- internals -----------------------------------------------------------------------------

  private track(work: Promise<void>): Promise<void> {
    this.inFlight.add(work);
    return work.finally(() => this.inFlight.delete(work));
  }

  /**
   * Sends through a running relay until one answers below 500 (a 429 is waited out); a relay down,
   * killed mid-request, or answering 5xx is tried again on the next one.
   */
  private async retry(
    send: (relay: RelayServer) => Promise<Post>,
    kind: "webhook" | "callback",
    onAnswer: (answer: Extract<Post, { status: number }>, sentAt: number) => void,
    onDone: (attempts: number, last: string) => void,
  ): Promise<void> {
    const deadline = Date.now() + (this.options.retryForMs ?? 120_000);
    let attempts = 0;
    let last = "";
    while (Date.now() < deadline) {
      const relay = await this.options.pick();
      attempts++;
      const sentAt = Date.now();
      const sending = send(relay);
      if (kind === "callback") this.notifySent(kind, relay);
      const answer = await sending;
      if (answer.status !== null && answer.status < 500 && answer.status !== 429) {
        onAnswer(answer, sentAt);
        if (kind === "webhook" && answer.status === 200) this.notifySent(kind, relay);
        onDone(attempts, `${answer.status} ${answer.text.slice(0, 200)}`);
        return;
      }
      last = answer.status === null ? answer.error : `${answer.status} ${answer.text.slice(0, 200)}`;
      await settle(answer.status === 429 ? 2_000 : 500);
    }
    onDone(attempts, last);
  }

  private notifySent(kind: "webhook" | "callback", relay: RelayServer): void {
    const waiting = this.sentWaiters.filter((w) => w.kind === kind);
    for (const waiter of waiting) {
      this.sentWaiters.splice(this.sentWaiters.indexOf(waiter), 1);
      waiter.resolve(relay);
    }
  }

  private scanDispatches(): void {
    const requests = this.options.github.requests;
    for (; this.scanned < requests.length; this.scanned++) {
      const request = requests[this.scanned];
      // A pending answer is looked at again on the next scan.
      if (request.status === null) break;
      if (!isSentDispatch(request)) continue;
      const payload = (request.body as DispatchBody | null)?.client_payload;
      const relay = payload?.relay;
      if (!relay?.request_id || !relay.callback_token || this.callbacks.has(relay.request_id)) continue;
      const entry: CallbackEntry = {
        requestId: relay.request_id,
        repo: repoOf(request),
        deliveryId: payload?.delivery_id,
        dispatchedAt: request.receivedAt,
        accepted: {},
        noDispatchAt: null,
        refused: null,
      };
      this.callbacks.set(entry.requestId, entry);
      void this.track(this.callBack(entry, relay.callback_token));
    }
  }

  private async callBack(entry: CallbackEntry, relayToken: string): Promise<void> {
    for (const transition of ["in_progress", "completed"] as const) {
      const workflow = {
        schema_version: "1",
        status: transition,
        conclusion: transition === "completed" ? "success" : null,
        scope: "job",
        name: "CI",
        url: `https://github.com/${entry.repo}/actions/runs/1`,
        run_id: "1",
        run_attempt: "1",
        job_name: "build",
        // As the composite action sends it (job.check_run_id); PyTorch's HUD keys its rows on it.
        check_run_id: "1",
      };
      const body = JSON.stringify({ relay_token: relayToken, workflow });
      // Widened by the cast: the callbacks below set it, which narrowing cannot see.
      let outcome = "refused" as "accepted" | "no-dispatch" | "refused";
      await this.retry(
        async (relay) => {
          this.callbacksSent++;
          const oidc = await this.options.issuer.mint({ repository: entry.repo });
          return post(
            relay.url("/relay/v1/callback"),
            { "content-type": "application/json", authorization: `Bearer ${oidc}` },
            body,
          );
        },
        "callback",
        (answer, sentAt) => {
          if (answer.status === 200) {
            outcome = "accepted";
            entry.accepted[transition] = { sentAt, at: Date.now() };
          } else if (answer.status === 404 && answer.json.failureKind === "no-dispatch") {
            outcome = "no-dispatch";
            entry.noDispatchAt = Date.now();
          } else {
            entry.refused = `${transition}: ${answer.status} ${answer.text.slice(0, 200)}`;
          }
        },
        (_attempts, last) => {
          if (outcome === "refused" && entry.refused === null) entry.refused = `${transition}: gave up (${last})`;
        },
      );
      if (outcome !== "accepted") return;
    }
  }
}

export function formatCounted(name: string, counted: Counted): string {
  return `${name}: expected ${counted.expected}, seen ${counted.seen}, duplicates ${counted.duplicates}, lost ${counted.lost}, lost to erasure ${counted.lostToErasure}`;
}

/** The lines the faults and soak suites print. */
export function formatTrafficReport(report: TrafficReport): string[] {
  const { deliveries, callbacks } = report;
  return [
    `deliveries: sent ${deliveries.sent}, accepted ${deliveries.accepted}, retried ${deliveries.retried}, never accepted ${deliveries.gaveUp}`,
    formatCounted("dispatches", report.dispatches),
    `callbacks: sent ${callbacks.sent}, transitions accepted ${callbacks.accepted}, no-dispatch ${callbacks.noDispatch} (after an erasure: ${callbacks.noDispatchExcused}), refused ${callbacks.refused}`,
    formatCounted("HUD rows", report.hudRows),
    `faults injected: ${
      Object.entries(report.faults)
        .map(([kind, n]) => `${kind} ${n}`)
        .join(", ") || "none"
    }`,
    ...report.lostExamples.map((example) => `  lost: ${example}`),
  ];
}
