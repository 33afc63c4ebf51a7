/**
 * "Did you mean …?" for a mistyped name: the closest known name by edit distance (insertions, deletions,
 * substitutions and swaps of two adjacent characters), when it is close enough to be a typo.
 */

/** Optimal-string-alignment distance between `a` and `b` (case-insensitive). */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  const d: number[][] = Array.from({ length: s.length + 1 }, (_, i) => [i, ...new Array<number>(t.length).fill(0)]);
  for (let j = 1; j <= t.length; j++) d[0]![j] = j;
  for (let i = 1; i <= s.length; i++) {
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[s.length]![t.length]!;
}

/**
 * The known name `name` was most likely meant to be: the closest by {@link editDistance}, at most 1 edit away for
 * names of up to 4 characters and 2 for longer ones (or differing only in case, `_` and `-`); undefined otherwise.
 */
export function didYouMean(name: string, known: Iterable<string>): string | undefined {
  const squash = (s: string): string => s.toLowerCase().replace(/[-_]/g, '');
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const k of known) {
    if (k === name) continue;
    const dist = squash(k) === squash(name) ? 0 : editDistance(name, k);
    if (dist < bestDistance) {
      best = k;
      bestDistance = dist;
    }
  }
  const limit = name.length <= 4 ? 1 : 2;
  return bestDistance <= limit ? best : undefined;
}

/** ` (did you mean "x"?)` or '' — for appending to a message about an unknown name. */
export function didYouMeanSuffix(name: string, known: Iterable<string>): string {
  const m = didYouMean(name, known);
  return m === undefined ? '' : ` (did you mean "${m}"?)`;
}
