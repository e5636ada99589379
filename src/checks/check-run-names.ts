/**
 * SPEC §3 check-run names, in the config's spelling of the downstream. The per-downstream name is
 * stable across commits so branch protection can require it.
 */
export function downstreamCheckName(checkPrefix: string, downstream: string): string {
  return `${checkPrefix}/${downstream}`;
}

export function jobCheckName(checkPrefix: string, downstream: string, workflow: string, job: string): string {
  return `${downstreamCheckName(checkPrefix, downstream)}/${workflow}/${job}`;
}
