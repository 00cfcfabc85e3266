/**
 * Numbers that are compared in an explanation ("confidence 0.349 < threshold 0.35") are printed
 * with enough decimals for the printed comparison to be true: rounding both to two places would
 * show "0.35 < 0.35".
 */

/**
 * `a` and `b` with the fewest decimals (at least `min`) at which the printed values order as the
 * numbers do (less, equal or greater).
 * @example
 * formatPair(0.3496, 0.35); // ['0.3496', '0.3500']
 */
export function formatPair(a: number, b: number, min = 2): [string, string] {
  const order = Math.sign(a - b);
  for (let digits = min; digits <= 20; digits++) {
    const sa = a.toFixed(digits);
    const sb = b.toFixed(digits);
    if (Math.sign(Number(sa) - Number(sb)) === order) return [sa, sb];
  }
  // Not reached for finite numbers (20 decimals tell any two doubles below 1e3 apart).
  return [String(a), String(b)];
}
