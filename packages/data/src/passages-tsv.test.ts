import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataFormatError } from './errors.js';
import { loadPassages, splitTsvRow, streamPassages, writePassagesTsv } from './passages-tsv.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'fidkd-data-tsv-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('splitTsvRow (Python csv.reader, delimiter tab)', () => {
  test('quoted fields, doubled quotes, literal quotes in unquoted fields, tabs inside quotes', () => {
    expect(splitTsvRow('1\t"He said ""hi"" there"\tAaron')).toEqual(['1', 'He said "hi" there', 'Aaron']);
    expect(splitTsvRow('2\tplain "quote" inside\tT')).toEqual(['2', 'plain "quote" inside', 'T']);
    expect(splitTsvRow('3\t"a\tb"\t"T"')).toEqual(['3', 'a\tb', 'T']);
    expect(splitTsvRow('4\t""\t')).toEqual(['4', '', '']);
    expect(splitTsvRow('5\t"x"tail\tT')).toEqual(['5', 'xtail', 'T']); // csv keeps text after the closing quote
    expect(typeof splitTsvRow('6\t"never closed\tT')).toBe('string');
  });
});

describe('streamPassages', () => {
  test('reads DPR-quoted rows, CRLF endings and UTF-8, and round-trips with writePassagesTsv', async () => {
    const file = join(dir, 'rt.tsv');
    const passages = [
      { id: '1', title: 'Aaron', text: 'Aaron is a prophet "high priest"\tand brother of Moses.' },
      { id: '2', title: 'Zoë "Z" Ødegård', text: 'naïve café — 東京' },
      { id: 'wiki:3', title: '', text: '' },
    ];
    await writePassagesTsv(file, passages);
    expect(readFileSync(file, 'utf8').split('\n')[0]).toBe('id\ttext\ttitle');
    expect(await loadPassages(file)).toEqual(passages);
    const crlf = join(dir, 'crlf.tsv');
    writeFileSync(crlf, 'id\ttext\ttitle\r\n1\t"a ""b"""\tT1\r\n2\tc\tT2');
    expect(await loadPassages(crlf)).toEqual([
      { id: '1', text: 'a "b"', title: 'T1' },
      { id: '2', text: 'c', title: 'T2' },
    ]);
  });

  test('malformed rows: fail names the line; skip counts them and lists their line numbers', async () => {
    const file = join(dir, 'bad.tsv');
    writeFileSync(
      file,
      ['id\ttext\ttitle', '1\tok\tA', '2\tonly two fields', '3\t"open quote\tB', '', '4\tok\tD', '\tno id\tE', '5\ta\tb\textra', '6\tfine\tF', ''].join('\n'),
    );
    await expect(loadPassages(file)).rejects.toThrow(/bad\.tsv, line 3: malformed passage row: expected 3 tab-separated fields/);
    await expect(loadPassages(file)).rejects.toBeInstanceOf(DataFormatError);
    const stream = streamPassages(file, { onMalformed: 'skip' });
    const ids: string[] = [];
    for await (const p of stream) ids.push(p.id);
    expect(ids).toEqual(['1', '4', '6']);
    expect(stream.malformedCount).toBe(4);
    expect(stream.malformed.map((m) => m.line)).toEqual([3, 4, 7, 8]);
    expect(stream.malformed[1]!.reason).toMatch(/unterminated quoted field/);
    expect(stream.malformed[2]!.reason).toMatch(/empty passage id/);
  });

  test('a file without the psgs_w100 header is rejected; progress events report bytes', async () => {
    const file = join(dir, 'nohead.tsv');
    writeFileSync(file, '1\ttext\ttitle\n');
    await expect(loadPassages(file)).rejects.toThrow(/nohead\.tsv, line 1: expected a header naming the columns id, text and title/);
    const ok = join(dir, 'ok.tsv');
    writeFileSync(ok, 'id\ttext\ttitle\n1\tx\ty\n');
    const events: string[] = [];
    await loadPassages(ok, { onProgress: (e) => events.push(e.type) });
    expect(events[0]).toBe('start');
    expect(events.at(-1)).toBe('end');
    await expect(loadPassages(join(dir, 'missing.tsv'))).rejects.toThrow(/missing\.tsv: cannot read passages TSV: ENOENT/);
  });
});
