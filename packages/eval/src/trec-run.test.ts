import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readTrecRun, TrecRunError, writeTrecRun, type TrecRun } from './index.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fidkd-trec-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

test('write then read round-trips a run; ranks follow list order', async () => {
  const run: TrecRun = new Map([
    ['q1', [{ docid: 'd7', score: 12.5 }, { docid: 'd3', score: -0.25 }]],
    ['q2', [{ docid: 'd1', score: 1e-7 }]],
  ]);
  const file = join(dir, 'run.trec');
  await writeTrecRun(file, run, { tag: 'bm25' });
  expect(readFileSync(file, 'utf8')).toBe('q1 Q0 d7 1 12.5 bm25\nq1 Q0 d3 2 -0.25 bm25\nq2 Q0 d1 1 1e-7 bm25\n');
  expect(await readTrecRun(file)).toEqual(run);
  expect(readdirSync(dir)).toEqual(['run.trec']); // no temp file left behind
});

test('read sorts by rank and accepts tabs and blank lines', async () => {
  const file = join(dir, 'r.txt');
  writeFileSync(file, 'q 0 b 2 0.5 t\n\nq\tQ0\ta\t1\t0.9\tt\n');
  expect(await readTrecRun(file)).toEqual(new Map([['q', [{ docid: 'a', score: 0.9 }, { docid: 'b', score: 0.5 }]]]));
});

test.each([
  ['q Q0 d 1 0.5\n', /r\.txt:1: expected 6 fields/],
  ['q Q0 d 1 0.5 t\nq Q0 e x 0.5 t\n', /r\.txt:2: rank "x" is not a positive integer/],
  ['q Q0 d 0 0.5 t\n', /r\.txt:1: rank "0"/],
  ['q Q0 d 1 abc t\n', /r\.txt:1: score "abc" is not a finite number/],
  ['q Q0 d 1 1 t\nq Q0 d 2 1 t\n', /r\.txt:2: document d appears twice for question q/],
  ['q Q0 d 1 1 t\nq Q0 e 1 1 t\n', /r\.txt:2: rank 1 appears twice/],
])('malformed line %j gives an error naming file:line', async (content, re) => {
  const file = join(dir, 'r.txt');
  writeFileSync(file, content);
  await expect(readTrecRun(file)).rejects.toThrow(re);
  await expect(readTrecRun(file)).rejects.toBeInstanceOf(TrecRunError);
});

test('a missing file names the file', async () => {
  await expect(readTrecRun(join(dir, 'nope.trec'))).rejects.toThrow(/nope\.trec: cannot open/);
});

test('a failed write leaves the existing run untouched', async () => {
  const file = join(dir, 'run.trec');
  await writeTrecRun(file, new Map([['q', [{ docid: 'd', score: 1 }]]]));
  const before = readFileSync(file, 'utf8');
  await expect(writeTrecRun(file, new Map([['q', [{ docid: 'd', score: NaN }]]]))).rejects.toThrow(/score of d is NaN/);
  await expect(writeTrecRun(file, new Map([['q 1', [{ docid: 'd', score: 1 }]]]))).rejects.toThrow(/question id/);
  expect(readFileSync(file, 'utf8')).toBe(before);
  expect(readdirSync(dir)).toEqual(['run.trec']);
});
