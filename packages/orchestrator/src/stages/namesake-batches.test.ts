import { generateSyntheticWorld } from '@fidkd/data';
import { NamesakeBatches } from './namesake-batches.js';

const world = generateSyntheticWorld({ seed: 3, numEntities: 80, numTrain: 10, numDev: 5, numTest: 5 });
const passages = world.passages.map((p) => ({ id: p.id, title: p.title, text: p.text }));

test('namesake batches: distinct titles, groups that share a name word, the same batch for the same (seed, step)', () => {
  const b = new NamesakeBatches(passages.map((p) => p.title), 8);
  let sharing = 0;
  let pairs = 0;
  for (let step = 0; step < 20; step++) {
    const idx = b.batch(32, 7, step);
    expect(idx).toHaveLength(32);
    const titles = idx.map((i) => passages[i]!.title);
    expect(new Set(titles).size).toBe(32);
    for (let g = 0; g < 32; g += 8) {
      const anchor = titles[g]!.split(' ');
      for (const t of titles.slice(g + 1, g + 8)) {
        pairs++;
        if (t.split(' ').some((w) => anchor.includes(w))) sharing++;
      }
    }
    expect(b.batch(32, 7, step)).toEqual(idx);
  }
  // (a group runs short only when an anchor has fewer namesakes than the group size)
  expect(sharing / pairs).toBeGreaterThan(0.95);
  expect(b.batch(32, 8, 0)).not.toEqual(b.batch(32, 7, 0));
});

test('namesake batches of group size 1 are random distinct titles; impossible sizes are refused', () => {
  const idx = new NamesakeBatches(passages.map((p) => p.title), 1).batch(16, 1, 0);
  expect(new Set(idx.map((i) => passages[i]!.title)).size).toBe(16);
  expect(() => new NamesakeBatches(passages.map((p) => p.title), 0)).toThrow(/groupSize must be a positive integer/);
  expect(() => new NamesakeBatches(passages.slice(0, 30).map((p) => p.title), 4).batch(32, 1, 0)).toThrow(/fewer than 32 items with distinct titles/);
});

test('namesake batches never put two items that share a passage in one batch', () => {
  // items = questions, each with passage lists; items 0 and 1 share passage "p1"
  const titles = ['Ada Novak', 'Ada Lind', 'Nils Novak', 'Ada Berg', 'Ivo Novak', 'Ivo Lind'];
  const ids = [['p1', 'p2'], ['p1', 'p3'], ['p4'], ['p5'], ['p6'], ['p7']];
  const b = new NamesakeBatches(titles, 3, ids);
  for (let step = 0; step < 50; step++) {
    const idx = b.batch(4, 1, step);
    expect(idx.includes(0) && idx.includes(1)).toBe(false);
    expect(new Set(idx).size).toBe(4);
  }
  expect(() => new NamesakeBatches(titles, 3, ids.slice(1))).toThrow(/5 passage lists for 6 items/);
});
