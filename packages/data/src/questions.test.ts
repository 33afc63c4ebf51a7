import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadQuestions, readQuestions, writeQuestions } from './questions.js';
import type { FidExample } from './types.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'fidkd-data-q-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const examples: FidExample[] = [
  {
    id: 'q0', question: 'who got the first nobel prize in physics', answers: ['Wilhelm Conrad Röntgen'], target: 'Wilhelm Conrad Röntgen',
    ctxs: [{ id: '628725', title: 'Nobel Prize in Physics', text: 'receive "a diploma"]{ , a medal', score: 83.5, has_answer: false }],
  },
  { id: 'q1', question: 'a "quoted" question with ] and } and \\ inside', answers: ['x', 'y'], ctxs: [] },
];

describe('question files', () => {
  test('JSON array and JSONL round-trip, format by extension and by sniffing', async () => {
    const json = join(dir, 'a.json');
    const jsonl = join(dir, 'a.jsonl');
    await writeQuestions(json, examples);
    await writeQuestions(jsonl, examples);
    expect(JSON.parse(readFileSync(json, 'utf8'))).toHaveLength(2); // a real JSON array (json.load works)
    expect(readFileSync(jsonl, 'utf8').trim().split('\n')).toHaveLength(2);
    expect(await loadQuestions(json)).toEqual(examples);
    expect(await loadQuestions(jsonl)).toEqual(examples);
    const sniffed = join(dir, 'lines.json'); // JSON lines behind a .json name
    writeFileSync(sniffed, readFileSync(jsonl));
    expect(await loadQuestions(sniffed)).toEqual(examples);
    const empty = join(dir, 'empty.json');
    await writeQuestions(empty, []);
    expect(await loadQuestions(empty)).toEqual([]);
  });

  test('a JSON array larger than the read chunk streams record by record (pretty-printed, DPR string scores)', async () => {
    const many = Array.from({ length: 300 }, (_, i) => ({
      id: i, question: `q ${i}`, answers: [`a${i}`],
      ctxs: Array.from({ length: 5 }, (_, j) => ({ id: `${i}-${j}`, title: 't', text: 'ü'.repeat(2000), score: String(j + 0.5), has_answer: j === 0 })),
    }));
    const file = join(dir, 'big.json');
    writeFileSync(file, JSON.stringify(many, null, 2)); // ~3 MB, several chunks, multi-byte chars across chunk edges
    let n = 0;
    for await (const ex of readQuestions(file)) {
      expect(ex.id).toBe(String(n));
      expect(ex.ctxs[3]!.score).toBe(3.5);
      expect(ex.ctxs[0]!.text).toBe('ü'.repeat(2000));
      n += 1;
    }
    expect(n).toBe(300);
  });

  test('validation errors name the file, the record (index, line, id) and the field', async () => {
    const cases: [string, string, RegExp][] = [
      ['noanswers.json', '[\n{"id":"a","question":"q","answers":["x"]},\n{"id":"b","question":"q","answers":"x"}\n]', /noanswers\.json, record 1 \(line 3\) \(id "b"\): field "answers": expected an array of strings/],
      ['ctx.jsonl', '{"id":"a","question":"q","answers":["x"],"ctxs":[{"id":"1","title":"t"}]}\n', /ctx\.jsonl, record 0 \(line 1\) \(id "a"\): field "ctxs\[0\]\.text": expected a string/],
      ['badjson.jsonl', '{"id":"a","question":"q","answers":["x"]}\n\n{"id":\n', /badjson\.jsonl, line 3: invalid JSON/],
      ['noq.json', '[{"id":"a","answers":[]}]', /noq\.json, record 0 \(line 1\) \(id "a"\): field "question": expected a string/],
      ['emptyq.json', '[{"id":"a","question":"","answers":[]}]', /emptyq\.json, record 0 \(line 1\) \(id "a"\): field "question": is empty/],
      ['noid.json', '[{"question":"q","answers":[]}]', /noid\.json, record 0 \(line 1\): field "id"/],
      ['trunc.json', '[{"id":"a","question":"q","answers":[]},\n{"id":"b","quest', /trunc\.json, line 2: record 1 is truncated/],
      ['notobj.json', '[{"id":"a","question":"q","answers":[]}, 5]', /notobj\.json, record 1 \(line 1, column 42\): expected an object/],
      ['dup.jsonl', '{"id":"a","question":"q","answers":[]}\n{"id":"a","question":"q","answers":[]}\n', /dup\.jsonl, record 1: duplicate question id "a"/],
      ['score.json', '[{"id":"a","question":"q","answers":[],"ctxs":[{"id":1,"title":"t","text":"x","score":"high"}]}]', /field "ctxs\[0\]\.score": expected a finite number \(or a decimal string such as "80\.38"\), got "high"/],
      ['text.txt', 'hello', /text\.txt, line 1: not a question file/],
    ];
    for (const [name, content, re] of cases) {
      const file = join(dir, name);
      writeFileSync(file, content);
      await expect(loadQuestions(file)).rejects.toThrow(re);
    }
    await expect(loadQuestions(join(dir, 'absent.json'))).rejects.toThrow(/absent\.json: cannot open question file: ENOENT/);
  });

  test('JSON syntax errors are placed at their file line and column, inside the record; a top-level object is not a question list', async () => {
    const rec = (id: string, q: string) => `{"id":"${id}","question":${q},"answers":["x"],"ctxs":[{"id":"1","title":"t","text":"x"}]}`;
    const many = Array.from({ length: 1200 }, (_, i) => rec(`q${i + 1}`, '"fine"'));
    const cases: [string, string, RegExp][] = [
      // a stray quote in record 0 of a long file: where it breaks the record, not "line 1202: record 0 is truncated"
      ['stray.json', `[\n${rec('q0', '"who is "the king"')},\n${many.join(',\n')}\n]`, /stray\.json, line 2, column 32 \(record 0\): invalid JSON: Expected ',' or '}' after property value/],
      // the same with the whole array on one line (no line break to stop at)
      ['oneline.json', `[${rec('q0', '"who is "the king"')}, ${many.join(', ')}]`, /oneline\.json, line 1, column 33 \(record 0\): invalid JSON/],
      // single quotes on the record's third line: that file line and column, not a position inside the record
      ['single.json', `[\n${rec('a', '"q"')},\n  {"id": "b",\n   "question": 'q', "answers": ["x"]}\n]`, /single\.json, line 4, column 16 \(record 1\): invalid JSON: Unexpected token '''/],
      ['single.jsonl', `${rec('a', '"q"')}\n{'id': 'b'}\n`, /single\.jsonl, line 2, column 2: invalid JSON: Expected property name or '}'/],
      ['object.json', `{"data": [${rec('a', '"q"')}]}`, /object\.json, line 1: expected a JSON list of questions .* \(found an object with the keys "data"\)/],
      ['pretty.json', `{\n  "data": [${rec('a', '"q"')}]\n}\n`, /pretty\.json, line 1: expected a JSON list of questions/],
      ['trunc.json', '[{"id":"a","question":"q","answers":[]},\n{"id":"b","quest', /trunc\.json, line 2: record 1 is truncated/],
    ];
    for (const [name, content, re] of cases) {
      const file = join(dir, name);
      writeFileSync(file, content);
      await expect(loadQuestions(file)).rejects.toThrow(re);
    }
  });

  test('writes are atomic: a failing write leaves the previous file intact and no temp file', async () => {
    const file = join(dir, 'keep.json');
    await writeQuestions(file, examples);
    const before = readFileSync(file, 'utf8');
    async function* failing(): AsyncGenerator<FidExample> {
      yield examples[0]!;
      throw new Error('boom');
    }
    await expect(writeQuestions(file, failing())).rejects.toThrow('boom');
    expect(readFileSync(file, 'utf8')).toBe(before);
    const { readdirSync } = await import('node:fs');
    expect(readdirSync(dir).filter((f) => f.includes('.tmp'))).toEqual([]);
  });
});
