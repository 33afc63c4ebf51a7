// The bad-input suite, run as a user meets it: the `fidkd` command in a child process on a tiny synthetic world.
// Every bad input exits 2 with a message naming the file and record (or the config key), never an "internal
// error", never a silent wrong result (issue 13 items 1–5 and 8; issue 12 item 7).
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isInputError, referenceRun, runCli, shown, TINY_DEMO, tinyDemo } from './__tests__/run-cli.js';

let dir: string;
let ref: string;
const tiny = JSON.parse(readFileSync(TINY_DEMO, 'utf8')) as { pipeline: Record<string, unknown> };

beforeAll(async () => ({ dir, ref } = await referenceRun('fidkd-bad-input-')), 120000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A `fidkd reproduce` config over the reference run's world (D⁰ from its BM25), with overrides. */
function reproduceConfig(name: string, data: Partial<Record<'passages' | 'train' | 'dev' | 'test', string>> = {}, extra: Record<string, unknown> = {}): string {
  const p = tiny.pipeline as Record<string, Record<string, unknown>>;
  const config = {
    name, seed: 3, ...tiny.pipeline,
    data: {
      passages: join(ref, 'prepare/world/passages.tsv'), train: join(ref, 'prepare/bm25/train.json'),
      dev: join(ref, 'prepare/bm25/dev.json'), test: join(ref, 'prepare/bm25/test.json'), ...data,
    },
    tokenizer: { reader: join(ref, 'prepare/tokenizer/tokenizer.json'), retriever: join(ref, 'prepare/tokenizer/tokenizer.json') },
    reader: { ...p.reader, init: undefined, accumulation_steps: 1 }, // the tiny demo's "" (train from scratch) is a demo flag
    retriever: { ...p.retriever, model: undefined, indexing_dimension: 0, scheduler_steps: 6, init: join(ref, 'prepare/pretrain-retriever') },
    ...extra,
  };
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(config));
  return file;
}

const reproduce = (config: string, ...extra: string[]) => runCli(['reproduce', '--config', config, '--run-dir', join(dir, `run-${config.split('/').pop()}`), '--backend', 'cpu', ...extra]);

/** Rewrites a question file (JSON array), `edit` changing the parsed records. */
function editQuestions(from: string, to: string, edit: (qs: Array<Record<string, any>>) => void): string { // eslint-disable-line @typescript-eslint/no-explicit-any
  const qs = JSON.parse(readFileSync(from, 'utf8')) as Array<Record<string, any>>; // eslint-disable-line @typescript-eslint/no-explicit-any
  edit(qs);
  writeFileSync(to, JSON.stringify(qs));
  return to;
}

/** Writes a NaN into the first tensor of a safetensors file. */
function poison(file: string): void {
  const bytes = readFileSync(file);
  const headerLength = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8')) as Record<string, { data_offsets: [number, number] }>;
  const first = Object.entries(header).find(([k]) => k !== '__metadata__')!;
  bytes.writeFloatLE(Number.NaN, 8 + headerLength + first[1].data_offsets[0]);
  writeFileSync(file, bytes);
}

describe('1: a diverging run stops at the first non-finite loss or gradient norm', () => {
  test('reader lr 1e30 without clipping: exit 2 naming stage, step and cause; no model written, nothing downstream', async () => {
    const out = join(dir, 'diverge-reader');
    const r = await tinyDemo(out, '--set', 'pipeline.reader.lr=1e30', '--set', 'pipeline.reader.clip=0');
    expect(isInputError(r)).toBe(true);
    expect(r.stderr).toMatch(/train-reader \(iteration 0\) diverged at step \d+: loss is (NaN|Infinity|-Infinity)\. Likely cause: .*reader\.lr = 1e\+30.*reader\.clip = 0/);
    expect(r.stderr).toMatch(/no model was written/);
    expect(existsSync(join(out, 'iter-0/train-reader'))).toBe(false);
    expect(existsSync(join(out, 'iter-0/score'))).toBe(false);
  });

  test('retriever training and retriever pretraining with lr 1e30 stop the same way', async () => {
    const out = join(dir, 'diverge-retriever');
    const r = await tinyDemo(out, '--set', 'pipeline.retriever.lr=1e30');
    expect({ ok: isInputError(r), out: r.stderr }).toEqual({ ok: true, out: expect.stringMatching(/train-retriever \(iteration 0\) diverged at step \d+: (loss|gradient norm) is/) });
    expect(existsSync(join(out, 'iter-0/train-retriever'))).toBe(false);
    expect(existsSync(join(out, 'iter-0/embed-0-of-2'))).toBe(false);
    const p = await tinyDemo(join(dir, 'diverge-pretrain'), '--set', 'pretrain_retriever.lr=1e30');
    expect({ ok: isInputError(p), out: p.stderr }).toEqual({ ok: true, out: expect.stringMatching(/pretrain-retriever \(iteration prepare\) diverged at step \d+: .*pretrain_retriever\.lr = 1e\+30/) });
    expect(existsSync(join(dir, 'diverge-pretrain', 'prepare/pretrain-retriever'))).toBe(false);
  });

  test('a NaN in the initial reader weights stops at step 1 naming the checkpoint', async () => {
    const init = join(dir, 'nan-reader');
    cpSync(join(ref, 'iter-0/train-reader'), init, { recursive: true });
    poison(join(init, 'model.safetensors'));
    const r = await tinyDemo(join(dir, 'nan-init'), '--set', `pipeline.reader.init=${JSON.stringify(init)}`, '--set', 'pipeline.reader.model=null');
    expect(isInputError(r)).toBe(true);
    expect(r.stderr).toMatch(new RegExp(`train-reader \\(iteration 0\\) diverged at step 1: loss is NaN\\. Likely cause: non-finite initial weights in ${init}`));
  });

  test('score refuses to write the non-finite teacher scores of a reader with NaN weights', async () => {
    const run = join(dir, 'nan-reader-score');
    cpSync(ref, run, { recursive: true });
    poison(join(run, 'iter-0/train-reader/model.safetensors'));
    const r = await runCli(['score', '--run-dir', run, '--backend', 'cpu']);
    expect(isInputError(r)).toBe(true);
    expect(r.stderr).toMatch(/iter-0\/train-reader: the reader gives question "train-\d+"'s passage \d+ the non-finite relevance score NaN/);
    expect(readFileSync(join(run, 'iter-0/score/train.json'), 'utf8')).toBe(readFileSync(join(ref, 'iter-0/score/train.json'), 'utf8'));
  });
});

describe('2: teacher scores must be finite numbers or decimal strings', () => {
  test.each([['"Infinity"'], ['1e999'], ['""'], ['"0x10"'], ['1e300']])('score %s: exit 2 naming file, record and field', async (raw) => {
    const run = join(dir, `scores-${raw.replace(/\W/g, '_')}`);
    cpSync(ref, run, { recursive: true });
    const file = join(run, 'iter-0/score/train.json');
    const text = readFileSync(file, 'utf8').replace(/"score":[^,}]+/, `"score":${raw}`);
    writeFileSync(file, text);
    const r = await runCli(['train-retriever', '--run-dir', run, '--backend', 'cpu']);
    expect(isInputError(r)).toBe(true);
    expect(r.stderr).toContain(file);
    expect(r.stderr).toMatch(/train-0/); // the record: the first question
    expect(r.stderr).toMatch(/field "ctxs\[0\]\.score"/);
    expect(existsSync(join(run, 'iter-0/train-retriever/stage-manifest.json'))).toBe(true); // the old output is intact
  });
});

describe('3: a passages TSV is read by its header', () => {
  test('id/title/text in that order is read as such (its index kept in the run directory); an unknown header is refused', async () => {
    const passages = readFileSync(join(ref, 'prepare/world/passages.tsv'), 'utf8').trim().split('\n').slice(1);
    const { splitTsvRow } = await import('@fidkd/data');
    const byId = new Map<string, { title: string; text: string }>();
    const quote = (s: string) => `"${s.replace(/"/g, '""')}"`;
    const rows = passages.map((l) => {
      const [id, text, title] = splitTsvRow(l) as string[];
      byId.set(id!, { title: title!, text: text! });
      return `${id}\t${quote(title!)}\t${quote(text!)}`;
    });
    const swapped = join(dir, 'swapped.tsv');
    writeFileSync(swapped, ['id\ttitle\ttext', ...rows].join('\n') + '\n');
    const cfg = reproduceConfig('swapped', { passages: swapped }, { baseline: { has_answer: false } });
    const r = await reproduce(cfg);
    expect({ code: r.code, err: r.code === 0 ? '' : shown(r) }).toEqual({ code: 0, err: '' });
    const dev = JSON.parse(readFileSync(join(dir, 'run-swapped.json', 'iter-0/retrieve/dev.json'), 'utf8')) as Array<{ ctxs: Array<{ id: string; title: string; text: string }> }>;
    for (const c of dev.flatMap((q) => q.ctxs)) expect({ title: c.title, text: c.text }).toEqual(byId.get(c.id));
    // retrieve's passage index went to the run directory's cache, not beside the (possibly read-only) data
    expect(existsSync(`${swapped}.idx`)).toBe(false);
    expect(readdirSync(join(dir, 'run-swapped.json', 'cache')).filter((f) => f.endsWith('.idx'))).toHaveLength(1);

    const named = join(dir, 'named.tsv');
    writeFileSync(named, ['id\ttext\tname', ...rows].join('\n') + '\n');
    const bad = await reproduce(reproduceConfig('named', { passages: named }));
    expect(isInputError(bad)).toBe(true);
    expect(bad.stderr).toMatch(/named\.tsv, line 1: expected a header naming the columns id, text and title/);
  });
});

describe('4: D⁰ files without has_answer', () => {
  test('has_answer is computed from the text (DPR rule), said once per file, and R@k equals the annotated files', async () => {
    const strip = (split: string) => editQuestions(join(ref, `prepare/bm25/${split}.json`), join(dir, `plain-${split}.json`), (qs) => {
      for (const q of qs) for (const c of q.ctxs) delete c.has_answer;
    });
    const cfg = reproduceConfig('plain', { train: strip('train'), dev: strip('dev'), test: strip('test') }, { iterations: 0, baseline: { has_answer: true } });
    const r = await reproduce(cfg);
    expect({ code: r.code, err: r.code === 0 ? '' : shown(r) }).toEqual({ code: 0, err: '' });
    for (const split of ['dev', 'test']) {
      expect(r.stderr.split(`plain-${split}.json: `).length - 1).toBe(1);
    }
    expect(r.stderr).toMatch(/passage\(s\) without "has_answer": computed from their text with DPR's rule/);
    const got = JSON.parse(readFileSync(join(dir, 'run-plain.json', 'iter-0/evaluate/metrics.json'), 'utf8')) as Record<string, number>;
    const want = JSON.parse(readFileSync(join(ref, 'iter-0/evaluate/metrics.json'), 'utf8')) as Record<string, number>;
    for (const k of ['dev.recall@1', 'dev.recall@5', 'test.recall@1', 'test.recall@5']) expect([k, got[k]]).toEqual([k, want[k]]);
    expect(want['dev.recall@5']).toBeGreaterThan(0);
  });
});

describe('5 and 8: input errors exit 2 naming the key, or the file and the record', () => {
  test.each([
    [['--set', 'pipeline.reader.total_steps=0'], /pipeline\.reader\.total_steps must be an integer ≥ 1 \(got 0\)/],
    [['--set', 'pipeline.reader.batch_size=2.5'], /pipeline\.reader\.batch_size must be an integer ≥ 1 \(got 2\.5\)/],
    [['--set', 'pipeline.evaluate.splits=["tset"]'], /pipeline\.evaluate\.splits must be a list of "dev" and "test"/],
    [['--set', 'pipeline.index.factory=NoSuchIndex'], /pipeline\.index\.factory "NoSuchIndex": faiss cannot build/],
    [['--set', 'pipeline.retrieve.n_passages=2'], /pipeline\.retrieve\.n_passages \(2\) must be ≥ pipeline\.reader\.n_context \(3\)/],
    [['--set', 'prepare.bm25.n_passages=2'], /prepare\.bm25\.n_passages \(2\) must be ≥ pipeline\.reader\.n_context \(3\)/],
    [['--set', 'pipeline.reader=null'], /"pipeline\.reader" must be an object, got null/],
    [['--set', 'prepare.world.numEntites=30'], /prepare\.world\.numEntites: not an option of the synthetic world/],
    [['--set', 'pipeline.retriever.passage_maxlength=40'], /pipeline\.retriever\.passage_maxlength \(40\) exceeds the retriever's max_position_embeddings \(32\)/],
    [['--set', 'pipeline.score.layers=[3]'], /pipeline\.score\.layers \[3\]: the reader has 1 decoder layer\(s\) \(0 … 0\)/],
    [['--set', 'pipeline.reader.model.d_modle=3'], /pipeline\.reader\.model\.d_modle: not a key of this config/],
    [['--set', 'pipeline.retriever.model.bert.hiddenSize=15'], /pipeline\.retriever\.model: hidden_size 15 is not a multiple of num_attention_heads 2/],
  ])('demo %j: refused before any work, naming the key as typed', async (args, message) => {
    const out = join(dir, 'refused');
    const t0 = Date.now();
    const r = await tinyDemo(out, ...(args as string[]));
    expect({ ok: isInputError(r), stderr: r.stderr }).toEqual({ ok: true, stderr: expect.stringMatching(message as RegExp) });
    expect(existsSync(out)).toBe(false); // nothing written, no stage ran
    expect(Date.now() - t0).toBeLessThan(20000);
  });

  test('a config file with "reader": null, and reproduce with a bad --matrix, are refused before any work', async () => {
    const file = join(dir, 'null-reader.json');
    writeFileSync(file, JSON.stringify({ pipeline: { reader: null } }));
    const r = await runCli(['demo', '--config', file, '--out', join(dir, 'never'), '--backend', 'cpu']);
    expect(isInputError(r)).toBe(true);
    expect(r.stderr).toMatch(/null-reader\.json: "pipeline\.reader" must be an object, got null/);
    const m = await reproduce(reproduceConfig('matrix'), '--matrix', join(dir, 'no-matrix.json'));
    expect(isInputError(m)).toBe(true);
    expect(m.stderr).toMatch(/reproduction matrix .*no-matrix\.json does not exist/);
    expect(existsSync(join(dir, 'run-matrix.json', 'iter-0'))).toBe(false);
  });

  test('data files: fewer passages than n_context, an empty question file, a directory, invalid UTF-8, a trailing comma, a header-only TSV', async () => {
    const train = join(ref, 'prepare/bm25/train.json');
    const short = editQuestions(train, join(dir, 'short.json'), (qs) => void (qs[5]!.ctxs = qs[5]!.ctxs.slice(0, 2)));
    const empty = join(dir, 'empty.json');
    writeFileSync(empty, '[]');
    const aDir = join(dir, 'a-dir.json');
    mkdirSync(aDir, { recursive: true });
    const utf8 = join(dir, 'utf8.json');
    writeFileSync(utf8, Buffer.concat([Buffer.from(readFileSync(train, 'utf8').slice(0, 300)), Buffer.from([0xff]), Buffer.from(readFileSync(train, 'utf8').slice(300))]));
    const comma = join(dir, 'comma.json');
    writeFileSync(comma, readFileSync(train, 'utf8').trimEnd().replace(/\]$/, ',]'));
    const headerOnly = join(dir, 'header-only.tsv');
    writeFileSync(headerOnly, 'id\ttext\ttitle\n');
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ train: short }, /short\.json, record 5 \(id "train-5"\): has 2 passages \(ctxs\), fewer than reader\.n_context 3/],
      [{ train: empty }, /empty\.json: no question with passages \(ctxs\) to train the reader on/],
      [{ train: aDir }, /a-dir\.json: is a directory, expected a question file/],
      [{ train: utf8 }, /utf8\.json, line 2: invalid UTF-8/],
      [{ train: comma }, /comma\.json, line \d+: trailing comma before "\]"/],
      [{ passages: headerOnly }, /header-only\.tsv, line 2: no passage rows after the header/],
    ];
    for (const [data, message] of cases) {
      const name = `data-${Object.values(data)[0]!.split('/').pop()}`;
      const r = await reproduce(reproduceConfig(name, data, { baseline: { has_answer: false } }));
      expect({ name, ok: isInputError(r), stderr: r.stderr }).toEqual({ name, ok: true, stderr: expect.stringMatching(message) });
    }
  });

  test('checkpoints: config dims that disagree with the weights, a missing tensor', async () => {
    const cases: Array<[string, (c: Record<string, unknown>) => void, RegExp]> = [
      ['dims', (c) => void (c.d_ff = 48), /model\.safetensors: tensor "encoder\.block\.0\.layer\.1\.DenseReluDense\.wi\.weight" has shape \[32, 16\], expected \[48, 16\]/],
      ['layers', (c) => void (c.num_layers = 2), /model\.safetensors: missing tensor "encoder\.block\.1\./],
    ];
    for (const [name, edit, message] of cases) {
      const init = join(dir, `reader-${name}`);
      cpSync(join(ref, 'iter-0/train-reader'), init, { recursive: true });
      const config = JSON.parse(readFileSync(join(init, 'config.json'), 'utf8')) as Record<string, unknown>;
      edit(config);
      writeFileSync(join(init, 'config.json'), JSON.stringify(config));
      const p = tiny.pipeline as Record<string, Record<string, unknown>>;
      const r = await reproduce(reproduceConfig(`ckpt-${name}`, {}, { reader: { ...p.reader, accumulation_steps: 1, init, model: null } }));
      expect({ name, ok: isInputError(r), stderr: r.stderr }).toEqual({ name, ok: true, stderr: expect.stringMatching(message) });
    }
  });
});

test('a usage error (unknown option or command) exits 2 like any bad input; --help and --version exit 0', async () => {
  const bogus = await runCli(['demo', '--bogus']);
  expect(bogus.code).toBe(2);
  expect(bogus.stderr).toMatch(/unknown option '--bogus'/);
  expect((await runCli(['nosuchcommand'])).code).toBe(2);
  expect((await runCli(['--version'])).code).toBe(0);
  expect((await runCli(['demo', '--help'])).code).toBe(0);
});

describe('issue 20: a user\'s own data — checked before any stage, settings listed at once, nothing ignored silently', () => {
  /** The run directory `reproduce` used for a config written by reproduceConfig. */
  const runOf = (config: string): string => join(dir, `run-${config.split('/').pop()}`);
  const noStageRan = (config: string): boolean => !existsSync(join(runOf(config), 'iter-0'));

  test('2 and 6: the demo\'s pipeline-config.json is accepted by a stage command and by reproduce, which ends with a table, report.md and results.json', async () => {
    const saved = join(ref, 'pipeline-config.json');
    const stage = await runCli(['train-reader', '--config', saved, '--run-dir', ref, '--backend', 'cpu']);
    expect({ code: stage.code, err: stage.code === 0 ? '' : shown(stage) }).toEqual({ code: 0, err: '' });
    expect(stage.stdout).toContain('(already done)');
    const run = join(dir, 'from-demo-config');
    const r = await runCli(['reproduce', '--config', saved, '--run-dir', run, '--backend', 'cpu']);
    expect({ code: r.code, err: r.code === 0 ? '' : shown(r) }).toEqual({ code: 0, err: '' });
    expect(r.stdout).toMatch(/^\| iteration \| retriever \| R@1 \| R@5 \| .*reader EM \| teacher gold@1 \|$/m);
    expect(r.stdout).toMatch(/^\| 0 \| initial \| /m);
    expect(r.stdout).toMatch(/^\| 1 \| distilled \| /m);
    const results = JSON.parse(readFileSync(join(run, 'results.json'), 'utf8')) as { iterations: Array<{ retriever: string }> };
    expect(results.iterations.map((i) => i.retriever)).toEqual(['initial', 'distilled']);
    expect(readFileSync(join(run, 'report.md'), 'utf8')).toMatch(/^# fidkd reproduce: demo\n/);
    expect(existsSync(join(run, 'recall.svg'))).toBe(true);
  });

  test('3 and 11: bad data is refused before any stage runs, naming the file and the record (question files, TSV header, short rows, duplicate ids by TSV line, gold ids, answers)', async () => {
    const tsv = readFileSync(join(ref, 'prepare/world/passages.tsv'), 'utf8').trimEnd().split('\n');
    const write = (name: string, lines: string[]): string => {
      const f = join(dir, name);
      writeFileSync(f, lines.join('\n') + '\n');
      return f;
    };
    const dupLine = tsv.length + 1;
    const [firstId] = tsv[1]!.split('\t');
    const cases: Array<[string, Record<string, string>, RegExp]> = [
      ['bad-dev', { dev: editQuestions(join(ref, 'prepare/bm25/dev.json'), join(dir, 'bad-dev.json'), (qs) => void (qs[3]!.answers = 'Paris')) },
        /bad-dev\.json, record 3 \(line 1\) \(id "dev-3"\): field "answers": expected an array of strings/],
      ['no-header', { passages: write('no-header.tsv', tsv.slice(1)) }, /no-header\.tsv, line 1: expected a header naming the columns id, text and title/],
      ['short-row', { passages: write('short-row.tsv', [...tsv.slice(0, 40), '9999\tonly two fields', ...tsv.slice(40)]) }, /short-row\.tsv, line 41: malformed passage row: expected 3 tab-separated fields \(id, text, title\), found 2/],
      ['dup-id', { passages: write('dup-id.tsv', [...tsv, `${firstId}\t"again"\tAgain`]) }, new RegExp(`dup-id\\.tsv, line ${dupLine}: duplicate passage id "${firstId}" \\(first on line 2\\)`)],
      ['gold', { dev: editQuestions(join(ref, 'prepare/bm25/dev.json'), join(dir, 'gold.json'), (qs) => void (qs[2]!.gold_passage_ids = ['no-such-passage'])) },
        /gold\.json, record 2 \(id "dev-2"\): gold passage id "no-such-passage" is not in the passages TSV .*passages\.tsv \(data\.passages\)/],
      ['no-answer', { train: editQuestions(join(ref, 'prepare/bm25/train.json'), join(dir, 'no-answer.json'), (qs) => void Object.assign(qs[7]!, { answers: [], target: undefined })) },
        /no-answer\.json, record 7 \(id "train-7"\): a training question needs an answer/],
    ];
    for (const [name, data, message] of cases) {
      const cfg = reproduceConfig(`data20-${name}`, data);
      const r = await reproduce(cfg);
      expect({ name, ok: isInputError(r), stderr: r.stderr, noStage: noStageRan(cfg) }).toEqual({ name, ok: true, stderr: expect.stringMatching(message), noStage: true });
    }
  });

  test('4: omitted keys take no NQ default that changes the model or the schedule', async () => {
    const p = tiny.pipeline as Record<string, Record<string, unknown>>;
    const fresh = { ...p.retriever, init: undefined, indexing_dimension: undefined, scheduler_steps: undefined };
    const cfg = reproduceConfig('omitted', {}, { iterations: 1, baseline: { has_answer: false }, retriever: fresh });
    const r = await reproduce(cfg);
    expect({ code: r.code, err: r.code === 0 ? '' : shown(r) }).toEqual({ code: 0, err: '' });
    const trained = JSON.parse(readFileSync(join(runOf(cfg), 'iter-0/train-retriever/config.json'), 'utf8')) as Record<string, unknown>;
    expect({ hidden: trained.hidden_size, projection: trained.projection, dimension: trained.indexing_dimension }).toEqual({ hidden: 16, projection: false, dimension: 16 });
    // without scheduler_steps the learning rate decays over total_steps (6), not FiD's 30000-step schedule
    const lrs = readFileSync(join(runOf(cfg), 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { kind: string; stage: string; iteration: unknown; metrics: { lr?: number } })
      .filter((e) => e.kind === 'step' && e.stage === 'train-retriever' && e.iteration === 0).map((e) => e.metrics.lr!);
    expect(lrs).toHaveLength(6);
    expect(lrs[5]).toBeCloseTo(0.001 * (1 / 5), 10);
    // FiD's 1000 warmup steps with 6 training steps would never reach the learning rate: refused, not filled in
    const warm = reproduceConfig('warmup', {}, { retriever: { ...fresh, warmup_steps: undefined } });
    const w = await reproduce(warm);
    expect({ ok: isInputError(w), stderr: w.stderr }).toEqual({ ok: true, stderr: expect.stringMatching(/retriever\.warmup_steps \(1000\) must be below retriever\.total_steps \(6\)/) });
  });

  test('5: train-reader reads no dev file, so evaluating another dev file reruns evaluate only', async () => {
    const run = join(dir, 'other-dev');
    cpSync(ref, run, { recursive: true });
    const before = readFileSync(join(run, 'iter-0/train-reader/stage-manifest.json'), 'utf8');
    const other = editQuestions(join(ref, 'prepare/bm25/dev.json'), join(dir, 'other-dev.json'), (qs) => void qs.pop());
    const r = await runCli(['evaluate', '--run-dir', run, '--backend', 'cpu', '--set', `data.dev=${JSON.stringify(other)}`]);
    expect({ code: r.code, err: r.code === 0 ? '' : shown(r) }).toEqual({ code: 0, err: '' });
    expect(readFileSync(join(run, 'iter-0/train-reader/stage-manifest.json'), 'utf8')).toBe(before);
    expect(r.stdout).not.toContain('(already done)');
  });

  test('7: settings the run would ignore are refused (the default pretrained reader\'s model, a fixed vocabulary\'s size), as are reserved names', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--set', 'pipeline.reader.model.d_modle=3'], /pipeline\.reader\.model\.d_modle is ignored: the reader starts from .*pretrained-reader \(pipeline\.reader\.init\)/],
      [['--set', 'pipeline.reader.model.num_heads=0'], /pipeline\.reader\.model\.num_heads is ignored/],
      [['--set', 'pipeline.reader.model.d_model=-16'], /pipeline\.reader\.model\.d_model is ignored/],
      [['--set', 'prepare.tokenizer.vocab_size=3'], /prepare\.tokenizer\.vocab_size is ignored: the vocabulary is .*tokenizer\.json \(prepare\.tokenizer\.file\)/],
      [['--set', 'pipeline.toString=1'], /"pipeline\.toString" is not a setting \(a reserved name\)/],
      [['--set', 'pipeline.valueOf=1'], /"pipeline\.valueOf" is not a setting/],
      [['--set', 'pipeline.hasOwnProperty=1'], /"pipeline\.hasOwnProperty" is not a setting/],
      [['--set', 'pipeline.__proto__.lr=1'], /"pipeline\.__proto__" is not a setting/],
      [['--set', 'pipeline.retriever.gamma=2'], /pipeline\.retriever\.gamma is the margin loss's γ: ignored with pipeline\.retriever\.loss "kl"/],
      [['--loss', 'mse', '--set', 'pipeline.retriever.temperature_gold=3'], /pipeline\.retriever\.temperature_gold applies to the KL loss only: ignored with pipeline\.retriever\.loss "mse"/],
      [['--set', 'pipeline.reader.gamma=2'], /unknown key "pipeline\.reader\.gamma"/],
      // from scratch the model's values are checked
      [['--set', 'pipeline.reader.init=', '--set', 'pipeline.reader.model.num_heads=0'], /pipeline\.reader\.model: "num_heads" must be a positive integer, got 0/],
      [['--set', 'prepare.tokenizer.file=', '--set', 'prepare.tokenizer.vocab_size=3'], /prepare\.tokenizer\.vocab_size must be an integer above the 6 special tokens \(got 3\)/],
    ];
    for (const [args, message] of cases) {
      const out = join(dir, 'ignored');
      const r = await runCli(['demo', '--out', out, '--backend', 'cpu', ...args]);
      expect({ args, ok: isInputError(r), stderr: r.stderr }).toEqual({ args, ok: true, stderr: expect.stringMatching(message) });
      expect(existsSync(out)).toBe(false);
    }
    // a reproduce config with a model beside its init checkpoint
    const p = tiny.pipeline as Record<string, Record<string, unknown>>;
    const both = reproduceConfig('init-and-model', {}, { retriever: { ...p.retriever, scheduler_steps: 6, init: join(ref, 'prepare/pretrain-retriever') } });
    const r = await reproduce(both);
    expect({ ok: isInputError(r), stderr: r.stderr }).toEqual({ ok: true, stderr: expect.stringMatching(/retriever\.model is ignored when retriever\.init is set/) });
  });

  test('8: every unknown key and bad value of the file and the flags at once, with "did you mean"', async () => {
    const file = join(dir, 'typos.json');
    writeFileSync(file, JSON.stringify({ pipeline: { reader: { totl_steps: 3 }, retriever: { lrr: 1 }, bogus: 1 } }));
    const r = await runCli(['demo', '--config', file, '--out', join(dir, 'typos'), '--set', 'pipeline.evaluate.kk=[1]', '--set', 'pipeline.reader.batch_size=0', '--set', 'prepare.world.numEntites=30']);
    expect(isInputError(r)).toBe(true);
    expect(r.stderr).toMatch(/demo settings: 6 problems \(nothing was run\)/);
    expect(r.stderr).toMatch(/typos\.json: unknown key "pipeline\.reader\.totl_steps" \(did you mean "pipeline\.reader\.total_steps"\?\)/);
    expect(r.stderr).toMatch(/typos\.json: unknown key "pipeline\.retriever\.lrr" \(did you mean "pipeline\.retriever\.lr"\?\)/);
    expect(r.stderr).toMatch(/typos\.json: unknown key "pipeline\.bogus" \(known keys here: /);
    expect(r.stderr).toMatch(/--set pipeline\.evaluate\.kk=\[1\]: unknown key "pipeline\.evaluate\.kk" \(did you mean "pipeline\.evaluate\.k"\?\)/);
    expect(r.stderr).toMatch(/pipeline\.reader\.batch_size must be an integer ≥ 1 \(got 0\)/);
    expect(r.stderr).toMatch(/prepare\.world\.numEntites: not an option of the synthetic world \(did you mean "numEntities"\?\)/);
  });

  test('9: JSON errors of a data or config file give the file line and column; an object is not a list of questions', async () => {
    const dev = readFileSync(join(ref, 'prepare/bm25/dev.json'), 'utf8').split('\n');
    dev[1] = dev[1]!.replace(/"question":"([^"]*?) /, '"question":"$1" ');
    const stray = join(dir, 'stray.json');
    writeFileSync(stray, dev.join('\n'));
    const object = join(dir, 'object.json');
    writeFileSync(object, JSON.stringify({ data: JSON.parse(readFileSync(join(ref, 'prepare/bm25/dev.json'), 'utf8')) }));
    for (const [name, file, message] of [
      ['stray', stray, /stray\.json, line 2, column \d+ \(record 0\): invalid JSON: Expected ',' or '}' after property value/],
      ['object', object, /object\.json, line 1: expected a JSON list of questions/],
    ] as const) {
      const cfg = reproduceConfig(`json-${name}`, { dev: file });
      const r = await reproduce(cfg);
      expect({ name, ok: isInputError(r), stderr: r.stderr, noStage: noStageRan(cfg) }).toEqual({ name, ok: true, stderr: expect.stringMatching(message), noStage: true });
    }
    const config = join(dir, 'single-quotes.json');
    writeFileSync(config, "{\n  \"seed\": 3,\n  'pipeline': {}\n}\n");
    const c = await runCli(['demo', '--config', config, '--out', join(dir, 'sq')]);
    expect({ ok: isInputError(c), stderr: c.stderr }).toEqual({ ok: true, stderr: expect.stringMatching(/config file .*single-quotes\.json, line 3, column 3: invalid JSON/) });
  });

  test('10: an --out that is a file, and a retriever checkpoint with too few positions (naming its config.json), exit 2', async () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'not a directory');
    const r = await runCli(['demo', '--out', file, '--config', TINY_DEMO, '--backend', 'cpu']);
    expect({ ok: isInputError(r), stderr: r.stderr }).toEqual({ ok: true, stderr: expect.stringMatching(/--out .*a-file exists and is not a directory/) });
    expect(readFileSync(file, 'utf8')).toBe('not a directory');
    const ckpt = join(dir, 'short-positions');
    const { BiEncoder } = await import('@fidkd/bi-encoder');
    const model = BiEncoder.create({ bert: { vocabSize: 400, hiddenSize: 16, numHiddenLayers: 1, numAttentionHeads: 2, intermediateSize: 32, maxPositionEmbeddings: 16 } });
    model.save(ckpt);
    model.dispose();
    const cfg = reproduceConfig('positions', {}, { retriever: { ...(tiny.pipeline as Record<string, Record<string, unknown>>).retriever, model: undefined, scheduler_steps: 6, init: ckpt } });
    const p = await reproduce(cfg);
    expect({ ok: isInputError(p), stderr: p.stderr }).toEqual({ ok: true, stderr: expect.stringContaining(`retriever.passage_maxlength (24) exceeds max_position_embeddings (16) of ${join(ckpt, 'config.json')} (retriever.init)`) });
  });

  test('11: text_maxlength below the special tokens is refused by the key as typed, before any stage', async () => {
    const out = join(dir, 'short-text');
    const r = await tinyDemo(out, '--set', 'pipeline.reader.text_maxlength=1');
    expect({ ok: isInputError(r), stderr: r.stderr }).toEqual({ ok: true, stderr: expect.stringMatching(/pipeline\.reader\.text_maxlength must be an integer ≥ 2 \(at least one token and <\/s>\) \(got 1\)/) });
    expect(existsSync(out)).toBe(false);
  });
});
