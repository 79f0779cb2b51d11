// Constants of the offline evaluation protocol (v1). The normative text is the header of
// ../shared/eval/quality.py (summarised in ../shared/docs/EVALUATION.md); change PROTOCOL_VERSION
// if anything here changes, exactly as quality.py says.

export const PROTOCOL_VERSION = 1;
/** list length scored */
export const K = 10;
/** users with fewer interactions (after duplicate collapse) are removed */
export const MIN_INTERACTIONS = 5;
/** the last max(1, floor(TEST_FRACTION · n + 1e-9)) interactions of each user go to TEST */
export const TEST_FRACTION = 0.2;

/** Size of a user's TEST part under protocol v1 (same float expression as quality.py). */
export function testCount(n: number): number {
  return Math.max(1, Math.floor(TEST_FRACTION * n + 1e-9));
}
