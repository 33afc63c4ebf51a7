import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trainWordPiece } from '@fidkd/tokenization';
import { pipelineConfigProblems } from './config.js';
import { preflightProblems } from './preflight.js';
import { mergeConfig, mergeConfigLayer } from './config-merge.js';
import { didYouMean } from './did-you-mean.js';
import { checkPipelineData } from './data-check.js';
import { tinyPipeline } from './__tests__/tiny-config.js';

const base = tinyPipeline({ passages: 'p.tsv', train: 't.json', dev: 'd.json', test: 'x.json', tokenizer: 'tok.json' });

test('did you mean: the closest known name within a typo or two, none beyond', () => {
  expect(didYouMean('lrr', ['lr', 'clip'])).toBe('lr');
  expect(didYouMean('d_modle', ['d_model', 'd_kv', 'd_ff'])).toBe('d_model');
  expect(didYouMean('totl_steps', ['total_steps', 'warmup_steps'])).toBe('total_steps');
  expect(didYouMean('indexingDimension', ['indexing_dimension'])).toBe('indexing_dimension');
  expect(didYouMean('bogus', ['lr', 'clip', 'total_steps'])).toBeUndefined();
});

test('a layer reports every unknown key, reserved name and misplaced section at once, and the keys it set', () => {
  const layer = mergeConfigLayer(base, JSON.parse('{"reader": {"lrr": 1, "total_steps": 9, "__proto__": {"x": 1}}, "retriever": 3, "toString": 1, "score": {"layers": [0]}}'), 'my.json');
  expect(layer.problems).toEqual([
    'my.json: "reader.__proto__" is not a setting (a reserved name)',
    'my.json: "toString" is not a setting (a reserved name)',
  ]);
  const typos = mergeConfigLayer(base, { reader: { lrr: 1, total_steps: 9, gamma: 2 }, retriever: 3, score: { layers: [0] } }, 'my.json');
  expect(typos.problems).toEqual([
    'my.json: unknown key "reader.lrr" (did you mean "reader.lr"?)',
    expect.stringMatching(/^my\.json: unknown key "reader\.gamma" \(known keys here: .*scheduler_steps/),
    'my.json: "retriever" must be an object, got 3',
  ]);
  expect(typos.config.reader.total_steps).toBe(9); // the rest of the layer still merges
  expect(typos.paths).toEqual(['reader.total_steps', 'score.layers']);
  // optional keys belong to their section (retriever.gamma is one; reader.gamma is not), null removes them
  const ok = mergeConfigLayer(base, { retriever: { gamma: 2, namesake_group: 4 }, reader: { model: null } }, '--set');
  expect(ok.problems).toEqual([]);
  expect(ok.config.retriever.gamma).toBe(2);
  expect('model' in ok.config.reader).toBe(false);
  expect(() => mergeConfig(base, { reader: { lrr: 1 }, retriever: { totl_steps: 1 } }, 'f.json')).toThrow(/2 problems in the settings:\n {2}- f\.json: unknown key "reader\.lrr"[^]*retriever\.totl_steps/);
});

test('values a run would ignore, or that cannot train, are problems of the config', () => {
  const c = structuredClone(base);
  c.reader.init = '/ckpt';
  c.retriever.gamma = 1;
  c.retriever.scheduler_steps = 3;
  c.reader.warmup_steps = 6;
  c.reader.text_maxlength = 1;
  c.retriever.n_context = 5;
  const problems = pipelineConfigProblems(c);
  expect(problems).toEqual(expect.arrayContaining([
    'reader.model is ignored when reader.init is set (the checkpoint\'s config.json defines the model): remove one of them',
    'retriever.gamma is the margin loss\'s γ: ignored with retriever.loss "kl"',
    expect.stringMatching(/^retriever\.scheduler_steps \(3\) must be ≥ retriever\.total_steps \(6\)/),
    expect.stringMatching(/^reader\.warmup_steps \(6\) must be below reader\.total_steps \(6\)/),
    'reader.text_maxlength must be an integer ≥ 2 (at least one token and </s>) (got 1)',
    'retriever.n_context (5) must be ≤ reader.n_context (3): the reader scores only its n_context passages',
  ]));
  expect(pipelineConfigProblems(base)).toEqual([]);
  // a number JSON cannot write is shown as itself (1e999 parses to Infinity), not as JSON's null
  expect(pipelineConfigProblems({ ...structuredClone(base), reader: { ...base.reader, lr: Infinity } })).toEqual(['reader.lr must be a positive number (got Infinity)']);
});

test('a run name that is no directory name, and a test split without test questions, are problems', () => {
  for (const name of ['', '..', 'a/b', 'x y', 7]) {
    expect(pipelineConfigProblems({ ...structuredClone(base), name } as never)).toEqual([expect.stringMatching(/^name must be a name of letters, digits/)]);
  }
  const noTest = { ...structuredClone(base), data: { ...base.data, test: undefined } };
  expect(pipelineConfigProblems(noTest)).toEqual(['evaluate.splits asks for "test" but data.test gives no test questions']);
  expect(pipelineConfigProblems({ ...noTest, evaluate: { ...noTest.evaluate, splits: ['dev'] } })).toEqual([]);
});

test('each tokenizer fits its model: a fresh model\'s vocab_size may pad the tokenizer\'s, an init must hold its ids', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fidkd-vocab-'));
  try {
    const tokenizer = join(dir, 'tokenizer.json');
    const trained = trainWordPiece(['alpha beta gamma delta', 'epsilon zeta eta theta'], { vocabSize: 120 });
    trained.save(tokenizer);
    const size = trained.vocabSize;
    const c = { ...structuredClone(base), tokenizer: { reader: tokenizer, retriever: tokenizer } };
    expect(preflightProblems(c)).toEqual([]);
    c.reader.model = { ...c.reader.model, vocab_size: size - 1 };
    c.retriever.model = { bert: { ...(c.retriever.model as { bert: object }).bert, vocabSize: size + 28 } };
    expect(preflightProblems(c)).toEqual([expect.stringMatching(new RegExp(`^reader\\.model\\.vocab_size \\(${size - 1}\\) must be an integer ≥ the ${size} tokens of .*tokenizer\\.json`))]);
    mkdirSync(join(dir, 'bert'));
    writeFileSync(join(dir, 'bert', 'config.json'), JSON.stringify({ vocab_size: size - 2, hidden_size: 16, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 32, max_position_embeddings: 64 }));
    const init = { ...structuredClone(base), tokenizer: c.tokenizer, retriever: { ...base.retriever, model: undefined, init: join(dir, 'bert') } };
    expect(preflightProblems(init)).toEqual(expect.arrayContaining([expect.stringMatching(new RegExp(`tokenizer\\.retriever .* has ${size} tokens, more than the vocab_size ${size - 2} of .*bert/config\\.json \\(retriever\\.init\\)`))]));
    // an initial checkpoint's config.json is read as its loader reads it, before any stage
    for (const [name, text, message] of [
      ['broken', '{"d_model": ', /reader\.init: .*broken\/config\.json: .*JSON/],
      ['typed', JSON.stringify({ vocab_size: 200, d_model: 8, d_kv: 4, num_heads: 2, d_ff: 16, num_layers: 'two' }), /reader\.init: .*typed\/config\.json: "num_layers" must be a number, got "two"/],
    ] as const) {
      mkdirSync(join(dir, name));
      writeFileSync(join(dir, name, 'config.json'), text);
      const r = { ...structuredClone(base), reader: { ...base.reader, model: undefined, init: join(dir, name) } };
      expect(preflightProblems(r)).toEqual([expect.stringMatching(message)]);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

describe('checkPipelineData', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'fidkd-data-check-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string): string => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  const ctxs = (ids: string[]) => ids.map((id) => ({ id, title: 't', text: 'x' }));

  test('every question file, the TSV in one pass (duplicates by line), and gold ids, before any stage', async () => {
    const passages = file('p.tsv', 'id\ttext\ttitle\n1\tone\tA\n2\ttwo\tB\n3\tthree\tC\n');
    const q = (id: string, extra: object = {}) => ({ id, question: 'q?', answers: ['a'], ctxs: ctxs(['1', '2', '3']), ...extra });
    const train = file('train.json', JSON.stringify([q('t0'), q('t1')]));
    const dev = file('dev.json', JSON.stringify([q('d0', { gold_passage_ids: ['2'] })]));
    const c = { ...structuredClone(base), data: { passages, train, dev }, retrieve: { ...base.retrieve, n_passages: 3 } };
    expect(await checkPipelineData(c, { runDir: join(dir, 'run') })).toEqual({ questions: { train: 2, dev: 1 }, passages: 3, trainWithoutPassages: 0 });
    // a training question without D⁰ passages is counted (iteration 0's reader leaves it out)
    const some = file('some.json', JSON.stringify([q('t0'), { ...q('t1'), ctxs: [] }]));
    expect(await checkPipelineData({ ...c, data: { ...c.data, train: some } }, { runDir: join(dir, 'run') })).toMatchObject({ trainWithoutPassages: 1 });
    const bad = async (data: object, message: RegExp) => expect(checkPipelineData({ ...c, data: { ...c.data, ...data } }, { runDir: join(dir, 'run') })).rejects.toThrow(message);
    await bad({ passages: file('dup.tsv', 'id\ttext\ttitle\n1\tone\tA\n2\ttwo\tB\n1\tagain\tC\n') }, /dup\.tsv, line 4: duplicate passage id "1" \(first on line 2\)/);
    await bad({ passages: file('short.tsv', 'id\ttext\ttitle\n1\tone\tA\n2\ttwo\n') }, /short\.tsv, line 3: malformed passage row/);
    await bad({ passages: file('nohead.tsv', '1\tone\tA\n') }, /nohead\.tsv, line 1: expected a header/);
    await bad({ passages: file('blank.tsv', 'id\ttext\ttitle\n1\tone\tA\n2\t \tB\n3\tthree\tC\n') }, /blank\.tsv, line 3: empty passage text \(id "2"\)/);
    await expect(checkPipelineData({ ...c, embed: { ...c.embed, num_shards: 4 } }, { runDir: join(dir, 'run') })).rejects.toThrow(/p\.tsv: has 3 passages, fewer than embed\.num_shards 4/);
    await bad({ passages: file('two.tsv', 'id\ttext\ttitle\n1\tone\tA\n2\ttwo\tB\n') }, /two\.tsv: has 2 passages, fewer than retrieve\.n_passages 3/);
    await bad({ dev: file('gold.json', JSON.stringify([q('d0', { gold_passage_ids: ['9'] })])) }, /gold\.json, record 0 \(id "d0"\): gold passage id "9" is not in the passages TSV/);
    await bad({ train: file('noans.json', JSON.stringify([q('t0'), q('t1', { answers: [] })])) }, /noans\.json, record 1 \(id "t1"\): a training question needs an answer/);
    await bad({ dev: file('few.json', JSON.stringify([{ ...q('d0'), ctxs: ctxs(['1']) }])) }, /few\.json, record 0 \(id "d0"\): has 1 passages \(ctxs\), fewer than reader\.n_context 3/);
    await bad({ dev: file('empty.json', '[]') }, /empty\.json: no questions \(the dev split is empty\)/);
    await bad({ train: file('emptyctx.json', JSON.stringify([q('t0'), { ...q('t1'), ctxs: [...ctxs(['1', '2']), { id: '3', title: 't', text: '' }] }])) }, /emptyctx\.json, record 1 \(id "t1"\): field "ctxs\[2\]\.text" is empty \(passage id "3"\)/);
    await bad({ dev: file('devnoans.json', JSON.stringify([q('d0', { answers: [''] })])) }, /devnoans\.json, record 0 \(id "d0"\): an evaluated question needs an answer/);
    await bad({ dev: file('emptyq.json', JSON.stringify([q('d0', { question: ' ' })])) }, /emptyq\.json, record 0 \(line 1\) \(id "d0"\): field "question": is empty/);
  });
});
