import { z } from "zod";
import { repoName } from "./repo-name";
import type { CiProvider } from "./types";

const text = z.string().min(1, { error: "must not be empty" });
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DIGITS = /^\d+$/;

/**
 * What the relay knows of the CI systems SPEC §4.1 names: the claim that immutably identifies a
 * caller (a renamed or re-created pipeline or project gets another slug or path, never another id's
 * value) and how ids are spelled. A mapping of a known issuer must name that id, so a slug that
 * someone else can take over never decides who reports as a downstream.
 */
const KNOWN_ISSUERS: {
  name: string;
  matches: (issuer: string) => boolean;
  idClaim: string;
  formats: Record<string, RegExp>;
}[] = [
  {
    name: "Buildkite",
    matches: (issuer) => issuer === "https://agent.buildkite.com",
    idClaim: "pipeline_id",
    formats: { organization_id: UUID, pipeline_id: UUID },
  },
  {
    name: "GitLab",
    matches: (issuer) => issuer === "https://gitlab.com",
    idClaim: "project_id",
    formats: { project_id: DIGITS, namespace_id: DIGITS },
  },
  {
    name: "CircleCI",
    // CircleCI's issuer is per organisation: https://oidc.circleci.com/org/<organization id>
    matches: (issuer) => issuer.startsWith("https://oidc.circleci.com/org/"),
    idClaim: "oidc.circleci.com/project-id",
    formats: { "oidc.circleci.com/project-id": UUID, "oidc.circleci.com/org-id": UUID },
  },
];

/** Names a CI system lets its users choose and change; they identify nothing (use them in required_claims). */
const MUTABLE_CLAIMS = new Set(["organization_slug", "pipeline_slug", "project_path", "namespace_path", "sub"]);

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** Its keys decide who may report, so they are fetched over https; plain http only from this machine (a local issuer). */
function isTrustworthyIssuer(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === "https:" || (url.protocol === "http:" && LOOPBACK_HOSTS.has(url.hostname));
  } catch {
    return false;
  }
}

/** Compared as text with the token's claim; an unquoted YAML number is accepted and kept as its digits. */
const claimValue = z.union([text, z.int().nonnegative()], { error: "must be a string" }).transform(String);

const repoMapping = z.strictObject({
  /** Claim -> value; a token whose claims equal all of them reports as `repo`. Required, not empty. */
  claims: z
    .record(text, claimValue)
    .refine((claims) => Object.keys(claims).length > 0, { error: "must name at least one claim" }),
  /** The downstream such a token reports as; must be a configured downstream. Required. */
  repo: repoName,
  /** Claim -> SPEC §2 patterns; every listed claim must be present and match one. Default: none. */
  required_claims: z.record(text, z.array(text).min(1)).default(() => ({})),
});

export const ciProviderSchema = z
  .strictObject({
    /** The issuer exactly as its tokens carry `iss`; its keys are found through its discovery document. Required. */
    issuer: z.string().refine(isTrustworthyIssuer, { error: "must be an https URL (http only on a loopback host)" }),
    /** The `aud` its tokens must carry. Default: `CALLBACK_AUDIENCE`. */
    audience: text.optional(),
    /** Which tokens report as which downstream. Required, not empty. */
    repo_map: z.array(repoMapping).min(1),
  })
  .superRefine((provider, ctx) => {
    const known = KNOWN_ISSUERS.find((candidate) => candidate.matches(provider.issuer));
    const seen = new Set<string>();
    provider.repo_map.forEach((mapping, index) => {
      const path = ["repo_map", index, "claims"];
      for (const [claim, value] of Object.entries(mapping.claims)) {
        if (MUTABLE_CLAIMS.has(claim))
          ctx.addIssue({
            code: "custom",
            path: [...path, claim],
            message: "names something that can be renamed; map by an immutable id",
          });
        const format = known?.formats[claim];
        if (format && !format.test(value))
          ctx.addIssue({ code: "custom", path: [...path, claim], message: `is not a ${known?.name} id` });
      }
      if (known && !(known.idClaim in mapping.claims)) {
        ctx.addIssue({
          code: "custom",
          path,
          message: `must name ${known.idClaim}: ${known.name} callers are mapped by immutable id`,
        });
      }
      const key = JSON.stringify(Object.entries(mapping.claims).sort(([a], [b]) => (a < b ? -1 : 1)));
      if (seen.has(key)) ctx.addIssue({ code: "custom", path, message: "the same claims as an earlier entry" });
      seen.add(key);
    });
  });

/** The validated `ci_providers` entry as the normalised config. */
export function toCiProvider(entry: z.output<typeof ciProviderSchema>): CiProvider {
  return {
    issuer: entry.issuer,
    ...(entry.audience !== undefined && { audience: entry.audience }),
    repoMap: entry.repo_map.map((mapping) => ({
      claims: mapping.claims,
      repo: mapping.repo,
      requiredClaims: mapping.required_claims,
    })),
  };
}
