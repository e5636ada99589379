/**
 * PyTorch asks for more CI on PR #N by pushing the tag `ciflow/<name>/<N>` (SPEC §3, *compat*). The
 * PR number is recovered from the tag's last segment. Pure; null for any other ref.
 */
const CIFLOW_TAG = /^refs\/tags\/ciflow\/.+\/([1-9]\d{0,9})$/;

export function ciflowPrNumber(ref: string): number | null {
  const match = CIFLOW_TAG.exec(ref);
  if (!match) return null;
  const number = Number(match[1]);
  return Number.isSafeInteger(number) ? number : null;
}
