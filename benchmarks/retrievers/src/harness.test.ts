import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasAnswer, readTrecRun } from '@fidkd/eval';
import { loadPassages } from '@fidkd/data';
import { jest } from '@jest/globals';
import { buildProgram } from './cli.js';
import { checkCheckpointWorld } from './checkpoint-world.js';
import { runBenchmark, runFileStems, syntheticDataset, writeBenchmarkOutputs, markdownTable, type BenchmarkDataset } from './index.js';

let dir: string;
let dataset: BenchmarkDataset;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fidkd-bench-'));
  dataset = await syntheticDataset({ seed: 5, world: { numEntities: 60, numTrain: 10, numDev: 25, numTest: 5 }, dir: join(dir, 'world') });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// A retriever written outside the harness: plain ESM, no fidkd import, only the documented interface.
const MODULE = `
const words = (s) => s.toLowerCase().match(/[a-z0-9]+/g) ?? [];
export async function createRetriever(options, context) {
  const docs = [];
  for await (const p of context.passages()) docs.push({ id: p.id, w: new Set(words(p.title + ' ' + p.text)) });
  const bonus = options.bonus ?? 0;
  return {
    async retrieve(questions, k) {
      return questions.map((q) => {
        const qw = words(q.question);
        return docs
          .map((d, i) => ({ id: d.id, score: qw.filter((w) => d.w.has(w)).length + bonus, i }))
          .sort((a, b) => b.score - a.score || a.i - b.i)
          .slice(0, k)
          .map(({ id, score }) => ({ id, score }));
      });
    },
  };
}
`;

test('a retriever module written in the test is evaluated unchanged, with R@k computed from has_answer', async () => {
  const file = join(dir, 'overlap-retriever.mjs');
  writeFileSync(file, MODULE);
  const [r] = await runBenchmark(dataset, [{ spec: file, options: { bonus: 1 }, label: 'overlap' }], { ks: [1, 5, 20] });
  expect(r!.retriever).toBe('overlap');
  expect(r!.questions).toBe(25);
  // recompute R@5 independently from the module's own ranking
  const passages = new Map((await loadPassages(dataset.passagesFile)).map((p) => [p.id, p]));
  const mod = (await import(file)) as { createRetriever: (o: unknown, c: unknown) => Promise<{ retrieve: (q: unknown[], k: number) => Promise<Array<Array<{ id: string }>>> }> };
  const ret = await mod.createRetriever({ bonus: 1 }, { passages: async function* () { yield* passages.values(); } });
  const lists = await ret.retrieve(dataset.questions.map((q) => ({ id: q.id, question: q.question })), 5);
  const expected = lists.filter((l, i) => l.some((h) => hasAnswer(dataset.questions[i]!.answers, passages.get(h.id)!.text))).length / 25;
  expect(r!.recall['5']).toBeCloseTo(expected, 10);
  expect(r!.recall['1']).toBeLessThanOrEqual(r!.recall['5']!);
  expect(r!.recall['5']).toBeLessThanOrEqual(r!.recall['20']!);
  expect(r!.gold_recall).toBeDefined();
  expect(r!.run.get(dataset.questions[0]!.id)).toHaveLength(20);

  const files = await writeBenchmarkOutputs(join(dir, 'out'), [r!]);
  const json = JSON.parse(readFileSync(join(dir, 'out', 'results.json'), 'utf8')) as { results: Array<{ recall: Record<string, number> }> };
  expect(json.results[0]!.recall['5']).toBe(r!.recall['5']);
  const trec = await readTrecRun(files.find((f) => f.endsWith('.trec'))!);
  expect(trec.size).toBe(25);
  expect(markdownTable([r!])).toContain('| overlap |');
});

test('the built-in bm25 retriever runs through the same harness', async () => {
  const [r] = await runBenchmark(dataset, [{ spec: 'bm25' }], { ks: [1, 20] });
  expect(r!.recall['20']).toBeGreaterThan(r!.recall['1']!);
  expect(r!.recall['20']).toBeGreaterThan(0.3);
});

test('bad modules and bad results are rejected with messages naming the problem', async () => {
  const none = join(dir, 'no-factory.mjs');
  writeFileSync(none, 'export const x = 1;\n');
  await expect(runBenchmark(dataset, [{ spec: none }])).rejects.toThrow(/exports no factory/);
  await expect(runBenchmark(dataset, [{ spec: 'nonsense' }])).rejects.toThrow(/unknown retriever "nonsense"/);
  const bogus = join(dir, 'bogus.mjs');
  writeFileSync(bogus, 'export default async () => ({ retrieve: async (qs) => qs.map(() => [{ id: "no-such-passage", score: 1 }]) });\n');
  await expect(runBenchmark(dataset, [{ spec: bogus }])).rejects.toThrow(/passage id no-such-passage is not in/);
  // a passage twice for one question: a TREC run that @fidkd/eval's readTrecRun would refuse
  const ids = (await loadPassages(dataset.passagesFile)).slice(0, 2).map((p) => p.id);
  const twice = join(dir, 'twice.mjs');
  writeFileSync(twice, `export default async () => ({ retrieve: async (qs) => qs.map(() => [{ id: "${ids[0]}", score: 2 }, { id: "${ids[1]}", score: 1 }, { id: "${ids[0]}", score: 0 }]) });\n`);
  await expect(runBenchmark(dataset, [{ spec: twice }], { ks: [1, 5] })).rejects.toThrow(new RegExp(`passage id ${ids[0]} returned twice \\(ranks 1 and 3\\)`));
  // more results than k: refused, not cut
  const many = join(dir, 'many.mjs');
  writeFileSync(many, `export default async () => ({ retrieve: async (qs) => qs.map(() => ${JSON.stringify(ids.map((id, i) => ({ id, score: -i })))}) });\n`);
  await expect(runBenchmark(dataset, [{ spec: many }], { ks: [1] })).rejects.toThrow(/2 passages returned, more than the k = 1 asked for/);
  expect((await runBenchmark(dataset, [{ spec: many }], { ks: [1, 2] }))[0]!.recall['2']).toBeDefined();
});

test('MRR is labelled with the cutoff it is computed at; TREC files are named after the retriever, visibly', async () => {
  const [r] = await runBenchmark(dataset, [{ spec: 'bm25' }], { ks: [1, 5] });
  expect(r!.mrr_k).toBe(5);
  expect(markdownTable([r!]).split('\n')[0]).toBe('| retriever | R@1 | R@5 | MRR@5 | gold R@1 | gold R@5 | questions | setup s | retrieval s |');
  const [r10] = await runBenchmark(dataset, [{ spec: 'bm25' }], { ks: [1, 20] });
  expect(r10!.mrr_k).toBe(10);
  expect(runFileStems(['./tfidf.mjs', 'bm25', '/abs/a/x.mjs', 'b\\x.mjs', '..', '.hidden'])).toEqual(['tfidf.mjs', 'bm25', 'x.mjs', 'x.mjs-2', 'retriever', 'hidden']);
  const files = await writeBenchmarkOutputs(join(dir, 'stems'), [{ ...r!, retriever: './tfidf.mjs' }]);
  expect(files.map((f) => f.slice(join(dir, 'stems').length + 1))).toEqual(['results.md', 'results.json', 'tfidf.mjs.trec']);
});

/** Runs the harness command in-process; returns exit code, stdout and stderr. */
async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = jest.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((stdout += String(s)), true));
  const err = jest.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((stderr += String(s)), true));
  process.exitCode = 0;
  try {
    await buildProgram().exitOverride().parseAsync(['node', 'fidkd-bench-retrievers', ...args]);
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = 0;
  return { code, stdout, stderr };
}

test('the command picks the backend (--backend) and reports progress on stderr', async () => {
  const world = JSON.stringify({ numEntities: 60, numTrain: 10, numDev: 25, numTest: 5 });
  const bad = await cli(['--backend', 'gpu-please', '--seed', '5', '--world', world]);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain('--backend gpu-please: expected one of auto, cpu, cpu-stock, wasm, webgpu, tensorflow, tensorflow-gpu');
  const ok = await cli(['--backend', 'cpu-stock', '--seed', '5', '--world', world, '--k', '1,5']);
  expect(ok.code).toBe(0);
  expect(ok.stderr).toMatch(/^backend: cpu \(/m);
  expect(ok.stderr).toMatch(/^retrieve \(bm25\): started \(25 questions\)$/m);
  expect(ok.stderr).toMatch(/^retrieve \(bm25\): 25 questions in \d+\.\d s$/m);
  expect(ok.stdout).toContain('| retriever | R@1 | R@5 | MRR@5 |');
  expect((await cli(['--quiet', '--backend', 'cpu', '--seed', '5', '--world', world, '--k', '1'])).stderr).toBe('');
});

test('a retriever that throws is named with where it threw; --debug prints the stack of its own code', async () => {
  const world = JSON.stringify({ numEntities: 60, numTrain: 10, numDev: 25, numTest: 5 });
  const file = join(dir, 'throwing.mjs');
  writeFileSync(file, [
    'function rank() { throw new TypeError("cannot read the index"); }',
    'export async function createRetriever() { return { async retrieve(questions, k) { return rank(questions, k); } }; }',
  ].join('\n'));
  const plain = await cli(['--quiet', '--backend', 'cpu', '--seed', '5', '--world', world, '--retriever', file]);
  expect(plain.code).toBe(2);
  expect(plain.stderr).toContain(`retriever ${file} threw in retrieve(): cannot read the index`);
  expect(plain.stderr).toContain('(--debug prints its stack trace)');
  expect(plain.stderr).not.toMatch(/\n\s+at /);
  const debug = await cli(['--quiet', '--debug', '--backend', 'cpu', '--seed', '5', '--world', world, '--retriever', file]);
  expect(debug.code).toBe(2);
  expect(debug.stderr).toMatch(/TypeError: cannot read the index\n\s+at rank \(.*throwing\.mjs:1:/);
  const factory = join(dir, 'throwing-factory.mjs');
  writeFileSync(factory, 'export default async function () { throw new Error("no model here"); }\n');
  const f = await cli(['--quiet', '--backend', 'cpu', '--seed', '5', '--world', world, '--retriever', factory]);
  expect(f.stderr).toContain(`retriever ${factory} threw in its factory: no model here`);
});

test('a gold passage id the collection lacks is refused, naming the question file and the question', async () => {
  const questions = join(dir, 'gold.json');
  const qs = dataset.questions.slice(0, 3).map((q, i) => ({ ...q, gold_passage_ids: i === 2 ? ['no-such-passage'] : q.gold_passage_ids }));
  writeFileSync(questions, JSON.stringify(qs));
  const r = await cli(['--quiet', '--backend', 'cpu', '--dataset', 'fid', '--questions', questions, '--passages', dataset.passagesFile]);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain(`${questions}, question ${JSON.stringify(qs[2]!.id)}: gold passage id "no-such-passage" is not in the passages TSV ${dataset.passagesFile}`);
});

test('a demo run\'s checkpoint is refused on another synthetic world than its run\'s, with the flags that score it on its own', async () => {
  const run = join(dir, 'demo-run');
  const { mkdirSync } = await import('node:fs');
  const { resolveSyntheticWorldOptions, SYNTHETIC_WORLD_VERSION } = await import('@fidkd/data');
  mkdirSync(join(run, 'prepare', 'world'), { recursive: true });
  const { seed: _seed, ...world } = resolveSyntheticWorldOptions({ seed: 5, numEntities: 60, numTrain: 10, numDev: 25, numTest: 5 });
  writeFileSync(join(run, 'prepare', 'world', 'stage-manifest.json'), JSON.stringify({ config: { seed: 5, world, generator: SYNTHETIC_WORLD_VERSION } }));
  const checkpoint = join(run, 'iter-0', 'train-retriever');
  expect(() => checkCheckpointWorld(checkpoint, 5, { numEntities: 60, numTrain: 10, numDev: 25, numTest: 5 })).not.toThrow();
  expect(() => checkCheckpointWorld(join(dir, 'elsewhere'), 1, undefined)).not.toThrow(); // not a demo run's checkpoint
  const r = await cli(['--quiet', '--backend', 'cpu', '--seed', '5', '--retriever', 'dense', '--option', `checkpoint=${checkpoint}`]);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain(`checkpoint ${checkpoint} was trained on the world of its run ${run} (numEntities 60, numTrain 10, numDev 25, numTest 5)`);
  expect(r.stderr).toContain(`--dataset fid --questions ${join(run, 'prepare/world/dev.json')} --passages ${join(run, 'prepare/world/passages.tsv')}`);
  const seed = await cli(['--quiet', '--backend', 'cpu', '--seed', '6', '--world', JSON.stringify({ numEntities: 60, numTrain: 10, numDev: 25, numTest: 5 }), '--retriever', 'dense', '--option', `checkpoint=${checkpoint}`]);
  expect(seed.stderr).toContain('(seed 5, not 6)');
});

test('the built-in dense retriever embeds the collection with a bi-encoder checkpoint and searches it', async () => {
  const { BiEncoder } = await import('@fidkd/bi-encoder');
  const { trainWordPiece } = await import('@fidkd/tokenization');
  const { initBackend } = await import('@fidkd/core');
  await initBackend('cpu'); // the cpu backend with the native BLAS kernels when built (much faster than stock)
  const passages = await loadPassages(dataset.passagesFile);
  const tok = trainWordPiece([...passages.map((p) => `${p.title} ${p.text}`), ...dataset.questions.map((q) => q.question)], { vocabSize: 300 });
  const ckpt = join(dir, 'dense-ckpt');
  const model = BiEncoder.create({ bert: { vocabSize: tok.vocabSize, hiddenSize: 16, numHiddenLayers: 1, numAttentionHeads: 2, intermediateSize: 32, maxPositionEmbeddings: 64 } }, { seed: 1 });
  model.save(ckpt);
  model.dispose();
  tok.save(join(ckpt, 'tokenizer.json'));
  const [r] = await runBenchmark(dataset, [{ spec: 'dense', options: { checkpoint: ckpt, passage_maxlength: 48, question_maxlength: 16 } }], { ks: [1, 5, 20] });
  expect(r!.questions).toBe(25);
  expect(r!.run.get(dataset.questions[0]!.id)).toHaveLength(20);
  for (const k of ['1', '5', '20']) expect(r!.recall[k]).toBeGreaterThanOrEqual(0);
  expect(r!.recall['1']).toBeLessThanOrEqual(r!.recall['20']!);
  await expect(runBenchmark(dataset, [{ spec: 'dense', options: {} }])).rejects.toThrow(/option "checkpoint"/);
  // both engines (ONNX Runtime is the default where onnxruntime-node is installed): the same scores within 1e-5
  const opts = { checkpoint: ckpt, passage_maxlength: 48, question_maxlength: 16 };
  const [ort] = await runBenchmark(dataset, [{ spec: 'dense', options: { ...opts, embed_backend: 'ort' } }], { ks: [1, 5, 20] });
  const [tfjs] = await runBenchmark(dataset, [{ spec: 'dense', options: { ...opts, embed_backend: 'tfjs' } }], { ks: [1, 5, 20] });
  for (const q of dataset.questions) {
    const a = ort!.run.get(q.id)!;
    const b = tfjs!.run.get(q.id)!;
    a.forEach((hit, i) => expect(Math.abs(hit.score - b[i]!.score)).toBeLessThan(1e-5));
  }
  await expect(runBenchmark(dataset, [{ spec: 'dense', options: { ...opts, embed_backend: 'onnx' } }])).rejects.toThrow(/"embed_backend" must be one of auto, ort, tfjs/);
});
