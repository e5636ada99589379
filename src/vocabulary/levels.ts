/**
 * vocabulary/ holds the SPEC's words that the stored records validate and the domain folders decide
 * with: a leaf that imports nothing, so records/ can check them without depending on config/, github/
 * or relay/ (which all read and write records).
 */

/** SPEC §1: a downstream's integration level, from observer (L1) to gate (L4). */
export const LEVELS = ["L1", "L2", "L3", "L4"] as const;
export type Level = (typeof LEVELS)[number];
