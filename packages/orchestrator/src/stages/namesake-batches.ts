import { SeededRandom } from '@fidkd/core';

/**
 * Batches whose in-batch negatives are hard: groups of items whose titles share a word with the group's first
 * title (namesakes: "Ada Novak", "Ada Lindqvist", "Nils Novak"), so that a name is told apart from names that
 * half match it, not only from random ones. Unsupervised: only titles are used (a passage's title, or for a
 * question the title of its first passage). Every title appears at most once per batch, and items that share a
 * passage never meet (a shared passage would be a positive of one row labelled negative in another).
 */
export class NamesakeBatches {
  private readonly byWord = new Map<string, number[]>();

  /**
   * @param titles one title per item
   * @param groupSize items per namesake group (the batch is filled with groups); 1 gives random batches
   * @param passageIds optional, per item: the ids of its passages (items sharing one are never batched together)
   */
  constructor(private readonly titles: readonly string[], private readonly groupSize: number, private readonly passageIds?: readonly (readonly string[])[]) {
    if (!Number.isInteger(groupSize) || groupSize < 1) throw new RangeError(`NamesakeBatches: groupSize must be a positive integer, got ${groupSize}`);
    if (passageIds && passageIds.length !== titles.length) throw new RangeError(`NamesakeBatches: ${passageIds.length} passage lists for ${titles.length} items`);
    titles.forEach((t, i) => {
      for (const w of new Set(words(t))) {
        const list = this.byWord.get(w);
        if (list) list.push(i);
        else this.byWord.set(w, [i]);
      }
    });
  }

  /** The item indices of optimizer step `step`: a pure function of (seed, step), so a resumed run sees the same batches. */
  batch(batchSize: number, seed: number, step: number): number[] {
    const rng = new SeededRandom((seed * 7919 + step * 104729) >>> 0);
    const out: number[] = [];
    const titles = new Set<string>();
    const ids = new Set<string>();
    const take = (i: number): boolean => {
      const t = this.titles[i]!;
      const own = this.passageIds?.[i] ?? [];
      if (titles.has(t) || own.some((id) => ids.has(id))) return false;
      titles.add(t);
      for (const id of own) ids.add(id);
      out.push(i);
      return true;
    };
    let attempts = 0;
    while (out.length < batchSize) {
      if (++attempts > 100 * batchSize) {
        throw new RangeError(`NamesakeBatches: fewer than ${batchSize} items with distinct titles (and no shared passage) for a batch`);
      }
      const anchor = rng.int(this.titles.length);
      if (!take(anchor)) continue;
      const pool = rng.shuffle([...new Set(words(this.titles[anchor]!).flatMap((w) => this.byWord.get(w) ?? []))]);
      let inGroup = 1;
      for (const i of pool) {
        if (inGroup >= this.groupSize || out.length >= batchSize) break;
        if (take(i)) inGroup++;
      }
    }
    return out;
  }
}

function words(title: string): string[] {
  return title.toLowerCase().split(/\s+/).filter(Boolean);
}
