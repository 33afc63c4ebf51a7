// Bad input in data files is refused with the file and the record, never read silently as something else.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPassages } from './passages-tsv.js';
import { PassageStore } from './passage-store.js';
import { loadQuestions } from './questions.js';

let dir: string;
beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'fidkd-data-bad-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: string | Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

const q = (score: string): string => `[{"id":"q1","question":"q","answers":["a"],"ctxs":[{"id":"1","title":"t","text":"x","score":${score}}]}]`;

test('teacher scores: finite numbers and decimal strings only; the error names file, record and field', async () => {
  expect((await loadQuestions(file('ok.json', q('"80.38"'))))[0]!.ctxs[0]!.score).toBe(80.38);
  expect((await loadQuestions(file('ok2.json', q('-1.5e-3'))))[0]!.ctxs[0]!.score).toBe(-1.5e-3);
  for (const [name, raw] of [['inf', '"Infinity"'], ['big', '1e999'], ['empty', '""'], ['hex', '"0x10"'], ['nan', '"NaN"'], ['bigstr', '"1e999"']]) {
    await expect(loadQuestions(file(`${name}.json`, q(raw!)))).rejects.toThrow(
      new RegExp(`${name}\\.json, record 0 \\(line 1\\) \\(id "q1"\\): field "ctxs\\[0\\]\\.score": expected a finite number`),
    );
  }
});

test('a passages TSV is read by its header names: id, title, text in any order; other headers are refused', async () => {
  const swapped = file('swapped.tsv', 'id\ttitle\ttext\n7\tThe Title\t"The text."\n');
  expect(await loadPassages(swapped)).toEqual([{ id: '7', title: 'The Title', text: 'The text.' }]);
  const store = await PassageStore.open(swapped, { indexPath: join(dir, 'swapped.idx') });
  expect(store.getSync('7')).toEqual({ id: '7', title: 'The Title', text: 'The text.' });
  store.close();
  const reopened = await PassageStore.open(swapped, { indexPath: join(dir, 'swapped.idx') }); // index reused
  expect(reopened.built).toBe(false);
  expect(reopened.getSync('7')).toEqual({ id: '7', title: 'The Title', text: 'The text.' });
  reopened.close();
  await expect(loadPassages(file('named.tsv', 'id\ttext\tname\n1\tx\ty\n'))).rejects.toThrow(/named\.tsv, line 1: expected a header naming the columns id, text and title/);
});

test('invalid UTF-8 is an error naming the file and line, in passages and in question files', async () => {
  const bad = Buffer.concat([Buffer.from('id\ttext\ttitle\n1\t"ok"\tT\n2\t"b'), Buffer.from([0xff, 0xfe]), Buffer.from('d"\tT\n')]);
  await expect(loadPassages(file('bad.tsv', bad))).rejects.toThrow(/bad\.tsv, line 3: invalid UTF-8/);
  const badQ = Buffer.concat([Buffer.from('{"id":"q1","question":"q'), Buffer.from([0xc3, 0x28]), Buffer.from('","answers":[]}\n')]);
  await expect(loadQuestions(file('bad.jsonl', badQ))).rejects.toThrow(/bad\.jsonl, line 1: invalid UTF-8/);
  await expect(loadQuestions(file('badarr.json', Buffer.concat([Buffer.from('[\n'), badQ.subarray(0, badQ.length - 1), Buffer.from(']')])))).rejects.toThrow(/badarr\.json, line 2: invalid UTF-8/);
});

test('JSON is strict (no trailing comma) and a BOM is accepted in both JSON and JSONL', async () => {
  const rec = '{"id":"q1","question":"q","answers":["a"]}';
  await expect(loadQuestions(file('comma.json', `[${rec},]`))).rejects.toThrow(/comma\.json, line 1: trailing comma before "\]"/);
  expect(await loadQuestions(file('bom.json', `\uFEFF[${rec}]`))).toHaveLength(1);
  expect(await loadQuestions(file('bom.jsonl', `\uFEFF${rec}\n`))).toHaveLength(1);
});

test('a directory, a header-only TSV and duplicate passage ids get messages naming the file', async () => {
  mkdirSync(join(dir, 'a-dir.json'));
  await expect(loadQuestions(join(dir, 'a-dir.json'))).rejects.toThrow(/a-dir\.json: is a directory/);
  mkdirSync(join(dir, 'a-dir.tsv'));
  await expect(loadPassages(join(dir, 'a-dir.tsv'))).rejects.toThrow(/a-dir\.tsv: is a directory/);
  await expect(loadPassages(file('header-only.tsv', 'id\ttext\ttitle\n'))).rejects.toThrow(/header-only\.tsv, line 2: no passage rows after the header/);
  const dup = file('dup.tsv', 'id\ttext\ttitle\n1\ta\tA\n2\tb\tB\n1\tc\tC\n');
  await expect(PassageStore.open(dup, { indexPath: join(dir, 'dup.idx') })).rejects.toThrow(/dup\.tsv, line 4: duplicate passage id "1" \(first on line 2\)/);
});
