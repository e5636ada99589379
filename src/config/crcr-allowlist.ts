import { z } from "zod";
import { DEFAULT_LEVELS } from "./levels-config";
import { CONFIG_DEFAULTS, deviceName, text } from "./native-config";
import { repoName } from "./repo-name";
import { RELAYED_EVENTS, type Downstream, type RelayConfig } from "./types";
import { LEVELS, type Level } from "../vocabulary/levels";

/**
 * PyTorch's cross-repo CI relay allowlist (`.github/allowlist.yml`, SPEC §2 *compat*). L1, L2 and L4 list
 * `owner/repo` or `{owner/repo: "oncall1, oncall2"}`; L3 maps `device -> {owner/repo: [oncalls]}`.
 */
const oncalls = z
  .union([z.string(), z.array(text), z.null()], { error: 'must be "oncall1, oncall2" or a list of oncalls' })
  .transform((value) => {
    if (value === null) return [];
    if (typeof value === "string")
      return value
        .split(",")
        .map((name) => name.trim())
        .filter((name) => name !== "");
    return value;
  });

const reposWithOncalls = z.record(repoName, oncalls);

const entry = z.union([repoName, reposWithOncalls], { error: 'must be "owner/repo" or {owner/repo: oncalls}' });

const entryList = z.array(entry);

export const crcrAllowlistSchema = z
  .strictObject({
    /** Dispatched only; callbacks are acknowledged and dropped. Default: none. */
    L1: entryList.nullish(),
    /** Dispatched; callbacks kept, timed and forwarded to HUD. Default: none. */
    L2: entryList.nullish(),
    /**
     * As L2, plus check runs when the PR carries `ciflow/crcr/<device>`: device -> repos, as a map of repo to
     * oncalls or as a list like the other levels. Default: none.
     */
    L3: z.record(deviceName, z.union([reposWithOncalls, entryList, z.null()])).nullish(),
    /** As L2, plus check runs on every PR. Default: none. */
    L4: entryList.nullish(),
  })
  .superRefine((allowlist, ctx) => {
    const firstLevel = new Map<string, Level>();
    for (const listed of listEntries(allowlist)) {
      const key = listed.repo.toLowerCase();
      const earlier = firstLevel.get(key);
      if (earlier === undefined) firstLevel.set(key, listed.level);
      else ctx.addIssue({ code: "custom", path: listed.path, message: `repository already listed at ${earlier}` });
    }
  });

type CrcrAllowlist = z.output<typeof crcrAllowlistSchema>;
type Entries = z.output<typeof entryList> | z.output<typeof reposWithOncalls>;

interface ListedRepo {
  repo: string;
  level: Level;
  device?: string;
  oncalls: string[];
  /** where it stands in the file, for error positions */
  path: (string | number)[];
}

function listLevel(entries: Entries, level: Level, path: (string | number)[], device?: string): ListedRepo[] {
  const at = (repo: string, names: string[], entryPath: (string | number)[]): ListedRepo => ({
    repo,
    level,
    ...(device !== undefined && { device }),
    oncalls: names,
    path: entryPath,
  });
  const fromMap = (map: Record<string, string[]>, mapPath: (string | number)[]) =>
    Object.entries(map).map(([repo, names]) => at(repo, names, [...mapPath, repo]));
  if (!Array.isArray(entries)) return fromMap(entries, path);
  return entries.flatMap((item, index) =>
    typeof item === "string" ? [at(item, [], [...path, index])] : fromMap(item, [...path, index]),
  );
}

/** Every repo in file order, with its level (and device for L3). */
function listEntries(allowlist: CrcrAllowlist): ListedRepo[] {
  return LEVELS.flatMap((level) => {
    if (level !== "L3") return listLevel(allowlist[level] ?? [], level, [level]);
    return Object.entries(allowlist.L3 ?? {}).flatMap(([device, entries]) =>
      listLevel(entries ?? [], level, ["L3", device], device),
    );
  });
}

/** A parsed YAML document is in this form when it has any top-level L1..L4 key. */
export function isCrcrAllowlist(document: unknown): boolean {
  return (
    typeof document === "object" &&
    document !== null &&
    !Array.isArray(document) &&
    LEVELS.some((level) => Object.hasOwn(document, level))
  );
}

function toDownstream(listed: ListedRepo): Downstream {
  return {
    repo: listed.repo,
    level: listed.level,
    ...(listed.device !== undefined && { device: listed.device }),
    oncalls: listed.oncalls,
    // CRCR pings the oncalls of its check-run levels; an allowlist has no `notify`, so the oncalls an
    // L3/L4 entry lists are what asks for it, and an entry naming none gets no comment.
    notify: (listed.level === "L3" || listed.level === "L4") && listed.oncalls.length > 0 ? ["comment"] : [],
    events: [...RELAYED_EVENTS],
    transport: "dispatch",
    runsOn: CONFIG_DEFAULTS.runsOnDefault,
    jobs: [],
    maxDeliveries: CONFIG_DEFAULTS.maxDeliveries,
    pickupTimeoutMinutes: CONFIG_DEFAULTS.pickupTimeoutMinutes,
    jobTimeoutMinutes: CONFIG_DEFAULTS.jobTimeoutMinutes,
    callers: {},
  };
}

/** The validated allowlist as the normalised config, behaving as CRCR does (SPEC §2). */
export function crcrToRelayConfig(allowlist: CrcrAllowlist, upstreamRepo: string): RelayConfig {
  return {
    form: "crcr",
    upstreams: [upstreamRepo],
    labelPrefix: "ciflow/crcr/",
    checkPrefix: "crcr",
    runsOnDefault: CONFIG_DEFAULTS.runsOnDefault,
    cacheTtlSeconds: CONFIG_DEFAULTS.cacheTtlSeconds,
    // CRCR relays pushes to every ref, ciflow tags included. Exactly `*` matches any value; `**`
    // would leave out names with an `@` (SPEC §2 patterns).
    push: { branches: ["*"], tags: ["*"] },
    pullRequest: { actions: [...CONFIG_DEFAULTS.pullRequestActions], trust: null, trustLabel: null },
    downstreams: listEntries(allowlist).map(toDownstream),
    broker: [],
    // PyTorch's allowlist has no place for thresholds: its downstreams are shown, never judged.
    levels: DEFAULT_LEVELS,
    ciProviders: [],
  };
}
