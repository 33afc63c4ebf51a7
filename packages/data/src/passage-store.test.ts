import { mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SeededRandom } from '@fidkd/core';
import { PassageStore, passageIdHash } from './passage-store.js';
import { writePassagesTsv } from './passages-tsv.js';
import type { Passage } from './types.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'fidkd-data-store-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function makePassages(n: number, seed: number): Passage[] {
  const rng = new SeededRandom(seed);
  const out: Passage[] = [];
  for (let i = 0; i < n; i++) {
    const id = i % 3 === 0 ? String(i + 1) : `doc-${i}-ü`;
    out.push({ id, title: `T"${i}`, text: `passage ${i} ${'x'.repeat(rng.int(50))} "q" \t end ${rng.int(1000)}` });
  }
  return out;
}

describe('PassageStore', () => {
  test('random access by id returns exactly the rows of the TSV; missing ids are reported', async () => {
    const file = join(dir, 'p.tsv');
    const passages = makePassages(5000, 1);
    await writePassagesTsv(file, passages);
    const store = await PassageStore.open(file);
    expect(store.built).toBe(true);
    expect(store.size).toBe(5000);
    const rng = new SeededRandom(2);
    for (let t = 0; t < 500; t++) {
      const p = passages[rng.int(passages.length)]!;
      expect(await store.get(p.id)).toEqual(p);
    }
    expect(await store.get('nope')).toBeUndefined();
    const ids = [passages[10]!.id, passages[4000]!.id, passages[0]!.id];
    expect(await store.getMany(ids)).toEqual([passages[10], passages[4000], passages[0]]);
    await expect(store.getMany(['1', 'nope', 'gone'])).rejects.toThrow(/2 passage id\(s\) not in the collection: "nope", "gone"/);
    expect(await store.getMany(['nope', '1'], { missing: 'skip' })).toEqual([passages[0]]);
    store.close();
  });

  test('the index is built once, reused, and rebuilt when the TSV changes', async () => {
    const file = join(dir, 'q.tsv');
    await writePassagesTsv(file, makePassages(100, 3));
    const a = await PassageStore.open(file);
    a.close();
    const b = await PassageStore.open(file);
    expect(b.built).toBe(false);
    expect((await b.get('1'))?.title).toBe('T"0');
    b.close();
    const changed = makePassages(120, 4).map((p) => ({ ...p, title: `new ${p.title}` }));
    await writePassagesTsv(file, changed);
    const c = await PassageStore.open(file);
    expect(c.built).toBe(true);
    expect(c.size).toBe(120);
    expect((await c.get('1'))?.title).toBe('new T"0');
    c.close();
    // Same size, different mtime: rebuilt too.
    const st = statSync(file);
    utimesSync(file, st.atime, new Date(st.mtimeMs + 5000));
    const d = await PassageStore.open(file, { indexPath: join(dir, 'elsewhere.idx') });
    expect(d.built).toBe(true);
    d.close();
  });

  test('duplicate ids are an error naming both lines; skip mode indexes around malformed rows', async () => {
    const file = join(dir, 'dup.tsv');
    writeFileSync(file, 'id\ttext\ttitle\n1\ta\tA\n2\tb\tB\n1\tc\tC\n');
    await expect(PassageStore.open(file)).rejects.toThrow(/dup\.tsv, line 4: duplicate passage id "1" \(first on line 2\)/);
    const bad = join(dir, 'bad.tsv');
    writeFileSync(bad, 'id\ttext\ttitle\n1\ta\tA\nbroken row\n2\tb\tB\n');
    await expect(PassageStore.open(bad)).rejects.toThrow(/bad\.tsv, line 3/);
    const s = await PassageStore.open(bad, { onMalformed: 'skip', rebuild: true });
    expect(s.size).toBe(2);
    expect(s.malformed).toEqual([{ line: 3, reason: expect.stringMatching(/expected 3/) }]);
    expect(await s.get('2')).toEqual({ id: '2', text: 'b', title: 'B' });
    s.close();
  });

  test('onPassage sees every row with its line while the index is built, and may refuse the file; a reused index calls it not', async () => {
    const file = join(dir, 'rows.tsv');
    writeFileSync(file, 'id\ttext\ttitle\n1\ta\tA\n\n2\t\tB\n');
    const seen: Array<[string, number]> = [];
    const indexPath = join(dir, 'rows.idx');
    await expect(PassageStore.open(file, { indexPath, onPassage: (p, line) => {
      seen.push([p.id, line]);
      if (!p.text) throw new Error(`line ${line}: empty`);
    } })).rejects.toThrow('line 4: empty');
    expect(seen).toEqual([['1', 2], ['2', 4]]);
    const s = await PassageStore.open(file, { indexPath });
    s.close();
    const again: string[] = [];
    (await PassageStore.open(file, { indexPath, onPassage: (p) => void again.push(p.id) })).close();
    expect(again).toEqual([]);
  });

  test('passageIdHash is a deterministic 52-bit integer', () => {
    expect(passageIdHash('123')).toBe(passageIdHash('123'));
    expect(passageIdHash('123')).not.toBe(passageIdHash('124'));
    const h = passageIdHash('some id');
    expect(Number.isSafeInteger(h) && h >= 0 && h < 2 ** 52).toBe(true);
  });
});

describe('PassageStore index file', () => {
  test('a file that is not an index is refused by name; a truncated index is rebuilt', async () => {
    const file = join(dir, 'r.tsv');
    await writePassagesTsv(file, makePassages(50, 5));
    writeFileSync(join(dir, 'junk.idx'), 'hello world, this is not an index file at all, no sir');
    await expect(PassageStore.open(file, { indexPath: join(dir, 'junk.idx') })).rejects.toThrow(/junk\.idx: not a passage index file/);
    const s = await PassageStore.open(file);
    s.close();
    const { truncateSync } = await import('node:fs');
    truncateSync(`${file}.idx`, 100);
    const t = await PassageStore.open(file);
    expect(t.built).toBe(true);
    expect(t.size).toBe(50);
    t.close();
  });
});
