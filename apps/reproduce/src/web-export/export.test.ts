// `fidkd export-web` and `fidkd serve` as a user meets them (the commands in a child process) on a tiny demo run:
// the site's data against the run's own files, the options, bad input, and the server.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSafetensors } from '@fidkd/core';
import { readEmbeddingShard } from '@fidkd/data';
import { isInputError, runCli, shown, startCli, tinyDemo, type CliRun } from '../__tests__/run-cli.js';
import { WEB_ASSETS_DIR } from './export.js';
import { serveSite } from './serve.js';
import type { SiteManifest, SitePassages, SiteQuestion } from './site-format.js';

let dir: string;
let run: string;
let demo: CliRun;
const json = <T>(file: string): T => JSON.parse(readFileSync(file, 'utf8')) as T;
type Ctx = { id: string; score: number };
type Q = { id: string; ctxs: Ctx[]; gold_passage_ids?: string[] };

beforeAll(async () => {
  if (!existsSync(join(WEB_ASSETS_DIR, 'index.html'))) throw new Error(`the web page is not built (${WEB_ASSETS_DIR}): run \`npm run build\``);
  dir = mkdtempSync(join(tmpdir(), 'fidkd-web-'));
  run = join(dir, 'run');
  demo = await tinyDemo(run);
  if (demo.code !== 0) throw new Error(`the tiny demo failed: ${shown(demo)}`);
}, 180000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('the demo writes the page into its run directory and prints the command that serves it', () => {
  expect(demo.stdout).toMatch(/web page of iteration 0: .*\/web \([\d.]+ MB, 8 dev questions, \d+ passages\)/);
  expect(demo.stdout).toMatch(/open it with: npx fidkd serve \S+\/web/);
  expect(existsSync(join(run, 'web', 'index.html'))).toBe(true);
  expect(existsSync(join(run, 'web', 'vendor', 'tfjs', 'tfjs-backend-wasm-simd.wasm'))).toBe(true);
});

test('the site holds the run: metrics of every evaluate stage, G of the scored dev file, answers, ranks, passages, embeddings, weights', async () => {
  const out = join(dir, 'site');
  const r = await runCli(['export-web', run, '--out', out]);
  expect({ code: r.code, err: r.code ? shown(r) : '' }).toEqual({ code: 0, err: '' });
  const site = json<SiteManifest>(join(out, 'data', 'site.json'));
  expect(site.run).toMatchObject({ iteration: 0, iterations: 1, n_context: 3, n_passages: 6, k: [1, 5] });
  expect(site.rankings.map((x) => x.key)).toEqual(['initial', 'iter-0']);
  expect(site.questions).toMatchObject({ count: 8, scored: true, answered: true });
  // metrics: the evaluate manifests, dev keys without prefix
  const manifestMetrics = (key: string): Record<string, number> => json<{ metrics: Record<string, number> }>(join(run, key, 'evaluate', 'stage-manifest.json')).metrics;
  expect(site.metrics.map((m) => m.key)).toEqual(['iter-0', 'iter-1', 'baseline-has_answer', 'baseline-shuffled_teacher']);
  for (const row of site.metrics) {
    const m = manifestMetrics(row.key);
    expect(row.metrics['recall@5']).toBe(m['dev.recall@5']);
    expect(row.metrics['gold_recall@1']).toBe(m['dev.gold_recall@1']);
    if (row.key.startsWith('iter-')) expect(row.metrics.em).toBe(m['dev.em']);
  }
  expect(site.metrics[1]!.teacher?.gold_at_1).toBe(json<{ metrics: Record<string, number> }>(join(run, 'iter-0', 'score', 'stage-manifest.json')).metrics['dev.gold_at_1']);

  const questions = json<SiteQuestion[]>(join(out, 'data', 'questions.json'));
  const scored = new Map(json<Q[]>(join(run, 'iter-0', 'score', 'dev.json')).map((q) => [q.id, q]));
  const retrieved = new Map(json<Q[]>(join(run, 'iter-0', 'retrieve', 'dev.json')).map((q) => [q.id, q]));
  const bm25 = new Map(json<Q[]>(join(run, 'prepare', 'bm25', 'dev.json')).map((q) => [q.id, q]));
  const answers = new Map(json<Array<{ id: string; answer: string; em: boolean }>>(join(run, 'iter-0', 'evaluate', 'dev-answers.json')).map((a) => [a.id, a]));
  expect(questions.map((q) => q.id)).toEqual([...bm25.keys()]);
  for (const q of questions) {
    const s = scored.get(q.id)!;
    expect(q.passages.map((p) => [p.id, p.g])).toEqual(s.ctxs.map((c) => [c.id, c.score]));
    expect(q.answer).toBe(answers.get(q.id)!.answer);
    expect(q.em).toBe(answers.get(q.id)!.em);
    for (const p of q.passages) {
      const at = (m: Map<string, Q>): number | null => (m.get(q.id)!.ctxs.findIndex((c) => c.id === p.id) + 1) || null;
      expect(p.ranks).toEqual({ initial: at(bm25), 'iter-0': at(retrieved) });
      expect(p.gold).toBe(Boolean(s.gold_passage_ids?.includes(p.id)));
    }
  }
  // passages in collection order, embeddings of iteration 0's index in that order (float32: exact)
  const passages = json<SitePassages>(join(out, 'data', 'passages.json'));
  const tsv = readFileSync(join(run, 'prepare', 'world', 'passages.tsv'), 'utf8').trim().split('\n').slice(1);
  expect(passages.map((p) => p[0])).toEqual(tsv.map((l) => l.split('\t')[0]));
  const emb = new Float32Array(readFileSync(join(out, 'data', 'embeddings.bin')).buffer.slice(0));
  const row = new Map(passages.map((p, i) => [p[0], i]));
  const d = site.embeddings.dimension;
  for (const k of [0, 1]) {
    const shard = readEmbeddingShard(join(run, 'iter-0', `embed-${k}-of-2`, 'embeddings.safetensors'));
    shard.ids.forEach((id, i) => expect(Array.from(emb.subarray(row.get(id)! * d, (row.get(id)! + 1) * d))).toEqual(Array.from(shard.embeddings.subarray(i * d, (i + 1) * d))));
  }
  // the retriever's parameters under canonical names, its tokenizer as the run's
  const weights = readSafetensors(join(out, 'data', 'retriever', 'model.safetensors'));
  expect(weights.has('encoder.layer.0.attention.self.query.weight')).toBe(true);
  expect(readFileSync(join(out, 'data', 'retriever', 'tokenizer.json'), 'utf8')).toBe(readFileSync(join(run, 'prepare', 'tokenizer', 'tokenizer.json'), 'utf8'));
});

test('float16 embeddings halve the file; a second export replaces the first whole', async () => {
  const out = join(dir, 'half');
  expect((await runCli(['export-web', run, '--out', out])).code).toBe(0);
  const f32 = readFileSync(join(out, 'data', 'embeddings.bin'));
  const r = await runCli(['export-web', run, '--out', out, '--embeddings', 'float16']);
  expect({ code: r.code, err: r.code ? shown(r) : '' }).toEqual({ code: 0, err: '' });
  const f16 = readFileSync(join(out, 'data', 'embeddings.bin'));
  expect(f16.length * 2).toBe(f32.length);
  expect(json<SiteManifest>(join(out, 'data', 'site.json')).embeddings.dtype).toBe('float16');
  const a = new Float32Array(f32.buffer.slice(f32.byteOffset, f32.byteOffset + f32.length));
  const h = new Uint16Array(f16.buffer.slice(f16.byteOffset, f16.byteOffset + f16.length));
  const half = (x: number): number => {
    const e = (x >> 10) & 0x1f;
    const v = e === 0 ? (x & 0x3ff) * 2 ** -24 : (1 + (x & 0x3ff) / 1024) * 2 ** (e - 15);
    return x & 0x8000 ? -v : v;
  };
  for (let i = 0; i < a.length; i++) expect(Math.abs(half(h[i]!) - a[i]!)).toBeLessThanOrEqual(Math.abs(a[i]!) * 2 ** -11 + 2 ** -25);
  expect(readdirSync(dir).filter((n) => /^half\.(old|tmp)-/.test(n))).toEqual([]);
});

test('bad input: not a run, an iteration without a retriever, an --out that is not a site, a bad dtype (exit 2, nothing replaced)', async () => {
  const notRun = join(dir, 'empty');
  mkdirSync(notRun, { recursive: true });
  const a = await runCli(['export-web', notRun]);
  expect(isInputError(a)).toBe(true);
  expect(a.stderr).toMatch(/is not a run directory: .*pipeline-config\.json does not exist/);
  const b = await runCli(['export-web', run, '--iteration', '1', '--out', join(dir, 'x')]);
  expect(isInputError(b)).toBe(true);
  expect(b.stderr).toMatch(/--iteration 1: the run has no finished retriever of that iteration \(finished: 0\)/);
  const mine = join(dir, 'my-notes');
  mkdirSync(mine, { recursive: true });
  writeFileSync(join(mine, 'keep.txt'), 'mine');
  const c = await runCli(['export-web', run, '--out', mine]);
  expect(isInputError(c)).toBe(true);
  expect(c.stderr).toMatch(/exists and is not a site written by `fidkd export-web`/);
  expect(readFileSync(join(mine, 'keep.txt'), 'utf8')).toBe('mine');
  const e = await runCli(['export-web', run, '--embeddings', 'int8']);
  expect(isInputError(e)).toBe(true);
  expect(e.stderr).toMatch(/--embeddings int8: expected float32 or float16/);
});

test('serve: loopback by default, the types the page needs, nothing outside the site', async () => {
  const site = await serveSite(join(run, 'web'), { port: 0 });
  try {
    expect(site.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const get = async (path: string): Promise<{ status: number; type: string | null }> => {
      const r = await fetch(site.url + path);
      await r.arrayBuffer();
      return { status: r.status, type: r.headers.get('content-type') };
    };
    expect(await get('')).toEqual({ status: 200, type: 'text/html; charset=utf-8' });
    expect(await get('app.js')).toEqual({ status: 200, type: 'text/javascript; charset=utf-8' });
    expect(await get('vendor/tfjs/tfjs-backend-wasm.wasm')).toEqual({ status: 200, type: 'application/wasm' });
    expect(await get('data/site.json')).toMatchObject({ status: 200 });
    expect((await get('nothing-here.js')).status).toBe(404);
    expect((await get('..%2f..%2fpipeline-config.json')).status).toBe(403);
  } finally {
    await site.close();
  }
  expect(isInputError(await runCli(['serve', run]))).toBe(true); // a run directory is not a site
  // the command: prints its address, serves until stopped
  const child = startCli(['serve', join(run, 'web'), '--port', '0']);
  const url = await new Promise<string>((ok, fail) => {
    let out = '';
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /at (http:\/\/127\.0\.0\.1:\d+\/) \(Ctrl-C to stop\)/.exec(out);
      if (m) ok(m[1]!);
    });
    child.on('exit', (code) => fail(new Error(`fidkd serve exited ${code}: ${out}`)));
  });
  expect((await fetch(`${url}data/site.json`)).status).toBe(200);
  const exited = new Promise<number | null>((ok) => child.on('exit', (code) => ok(code)));
  child.kill('SIGTERM');
  expect(await exited).toBe(0);
});
