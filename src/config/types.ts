/**
 * config/ owns the relay's settings: the environment schema (env.ts), the relay config schemas in both
 * forms (native, CRCR allowlist) and their parsing, the levels settings, and where the config is loaded
 * from and kept current (config-source.ts).
 */
import type { LevelsConfig } from "./levels-config";
import { asciiLowerCase } from "./pattern";
import type { Level } from "../vocabulary/levels";

/**
 * The relay config after validation and normalisation: both file forms (native and CRCR allowlist,
 * SPEC §2) become this one shape, so nothing past the loader knows which form the operator wrote.
 * Repository names keep the config's spelling (check-run names use it); compare them with `sameRepo`.
 */
export const RELAYED_EVENTS = ["pull_request", "push"] as const;
export type RelayedEvent = (typeof RELAYED_EVENTS)[number];

export type Transport = "dispatch" | "queue";

/** SPEC §2 `notify`: how an L3/L4 downstream's oncalls hear of its failures on a PR. */
export const NOTIFY_CHANNELS = ["comment"] as const;
export type NotifyChannel = (typeof NOTIFY_CHANNELS)[number];

export interface QueueJob {
  id: string;
  runsOn: string;
}

export interface CallerPins {
  repositoryId?: string;
  /** SPEC §2 pattern over the OIDC `workflow_ref` claim */
  workflowRef?: string;
}

export interface Downstream {
  repo: string;
  level: Level;
  /** L3 only: the opt-in label is `<labelPrefix><device>` */
  device?: string;
  oncalls: string[];
  /** L3/L4 only: `comment` = one comment on the upstream PR, kept up to date, when its per-downstream check fails */
  notify: NotifyChannel[];
  /** what is dispatched; empty for a nightly-only downstream (never dispatched, still reports) */
  events: RelayedEvent[];
  transport: Transport;
  /** queue only */
  runsOn: string;
  /** queue only: one job request per job; empty means one request for the downstream */
  jobs: QueueJob[];
  maxDeliveries: number;
  pickupTimeoutMinutes: number;
  jobTimeoutMinutes: number;
  callers: CallerPins;
}

export interface BrokerGrant {
  caller: {
    repository: string;
    repositoryId?: string;
    /** SPEC §2 pattern; absent means any */
    workflowRef?: string;
    /** SPEC §2 pattern over `ref`; absent means any */
    ref?: string;
    /** SPEC §2 patterns; absent means any */
    eventName?: string[];
  };
  repos: string[];
  operations: string[];
  live: string[];
}

/** One `repo_map` entry of a `ci_providers` issuer (SPEC §2, §4 step 1). */
export interface ProviderRepoMapping {
  /** claim -> value; a token is this entry's caller when every one equals its claim exactly */
  claims: Record<string, string>;
  /** the downstream such a token reports as */
  repo: string;
  /** claim -> SPEC §2 patterns; each claim must be present and match one of its patterns */
  requiredClaims: Record<string, string[]>;
}

/** A CI system other than GitHub Actions whose OIDC tokens may report callbacks. */
export interface CiProvider {
  /** exactly as its tokens carry it in `iss` */
  issuer: string;
  /** absent: `CALLBACK_AUDIENCE` */
  audience?: string;
  repoMap: ProviderRepoMapping[];
}

export interface RelayConfig {
  /** which file form it came from; only for logs and health */
  form: "native" | "crcr";
  upstreams: string[];
  labelPrefix: string;
  checkPrefix: string;
  runsOnDefault: string;
  cacheTtlSeconds: number;
  /** globs (SPEC §2 Patterns) over the branch or tag name, without `refs/heads/` or `refs/tags/` */
  push: { branches: string[]; tags: string[] };
  pullRequest: {
    actions: string[];
    /** author_association values that may trigger downstream CI; null means no gating (CRCR) */
    trust: string[] | null;
    trustLabel: string | null;
  };
  downstreams: Downstream[];
  broker: BrokerGrant[];
  /** what each level asks of a downstream's record (SPEC §7 `levels:`) */
  levels: LevelsConfig;
  ciProviders: CiProvider[];
}

/** SPEC §2: repository names match case-insensitively, in ASCII (see `asciiLowerCase`). */
export function sameRepo(a: string, b: string): boolean {
  return asciiLowerCase(a) === asciiLowerCase(b);
}
