/**
 * `fidkd export-web`: a run directory → a static site (plain files, nothing fetched from elsewhere): the page's
 * code (built into dist/web by scripts/build-web.mjs: the bundle with tfjs, its wasm files, the HTML and CSS) and
 * the run's data (site-format.ts). Written into a temp directory beside the target, then renamed into place.
 */
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BiEncoder } from '@fidkd/bi-encoder';
import { f32ToF16Bits, initBackend, writeSafetensors, type StateDict } from '@fidkd/core';
import { loadPassages, readEmbeddingShard, type FidExample } from '@fidkd/data';
import { OUTPUTS, readQuestions, replaceDir, tempSibling, type PipelineConfig } from '@fidkd/orchestrator';
import { WordPieceTokenizer } from '@fidkd/tokenization';
import { UserError } from '../ui/errors.js';
import { rankingFile, RunReader, type DoneStage } from './read-run.js';
import {
  SITE_FORMAT, type RankSource, type SiteManifest, type SitePassages, type SiteQuestion, type SiteQuestionPassage,
} from './site-format.js';

/** Where the built page lives: apps/reproduce/dist/web (the same from src/ and dist/, both two levels down). */
export const WEB_ASSETS_DIR = join(fileURLToPath(new URL('../..', import.meta.url)), 'dist', 'web');
/** The file that marks a directory as an exported site (an existing --out without it is never replaced). */
export const SITE_MARKER = join('data', 'site.json');

export interface ExportWebOptions {
  /** Output directory (default `<run>/web`). */
  out?: string;
  /** The iteration t whose retriever, passages Dᵗ, scores G and reader answers are shown (default: the last). */
  iteration?: number;
  /** Passage embeddings as float32 (exact scores) or float16 (half the size; scores change by ~1e-3 relative). */
  embeddings?: 'float32' | 'float16';
}

export interface ExportWebResult {
  out: string;
  iteration: number;
  bytes: number;
  questions: number;
  passages: number;
  /** What the run lacks, said once each (e.g. a score stage from before scored dev files). */
  notes: string[];
}

/** Exports the run in `runDir` as a static site. */
export async function exportWeb(runDir0: string, options: ExportWebOptions = {}): Promise<ExportWebResult> {
  const runDir = resolve(runDir0);
  const run = new RunReader(runDir);
  const configFile = join(runDir, 'pipeline-config.json');
  if (!existsSync(configFile)) {
    throw new UserError(`${runDir} is not a run directory: ${configFile} does not exist`, 'pass the directory of a run of `fidkd demo` or `fidkd reproduce`');
  }
  const config = JSON.parse(readFileSync(configFile, 'utf8')) as PipelineConfig;
  if (!existsSync(join(WEB_ASSETS_DIR, 'index.html'))) {
    throw new UserError(`the page's files are missing (${WEB_ASSETS_DIR})`, 'reinstall @fidkd/reproduce; in a clone of its repository, build it first (`npm run build`)');
  }
  const dtype = options.embeddings ?? 'float32';
  if (dtype !== 'float32' && dtype !== 'float16') throw new UserError(`--embeddings ${String(dtype)}: expected float32 or float16`);

  const done = run.retrieverIterations();
  if (!done.length) throw new UserError(`${runDir}: no retriever of this run has finished retrieving yet`, 'finish the run first (rerun the same command)');
  const t = options.iteration ?? done[done.length - 1]!;
  if (!done.includes(t)) throw new UserError(`--iteration ${t}: the run has no finished retriever of that iteration (finished: ${done.join(', ')})`);

  const out = resolve(options.out ?? join(runDir, 'web'));
  if (existsSync(out) && (!statSync(out).isDirectory() || !existsSync(join(out, SITE_MARKER)))) {
    throw new UserError(`${out} exists and is not a site written by \`fidkd export-web\``, 'choose another --out, or remove it');
  }
  const tmp = tempSibling(out);
  mkdirSync(dirname(out), { recursive: true });
  try {
    cpSync(WEB_ASSETS_DIR, tmp, { recursive: true });
    const result = await writeSiteData(run, config, t, dtype, join(tmp, 'data'));
    replaceDir(tmp, out);
    return { ...result, out, iteration: t, bytes: treeBytes(out) };
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}

async function writeSiteData(
  run: RunReader, config: PipelineConfig, t: number, dtype: 'float32' | 'float16', dataDir: string,
): Promise<Omit<ExportWebResult, 'out' | 'iteration' | 'bytes'>> {
  const notes: string[] = [];
  const retrieve = run.need(t, 'retrieve');
  const rc = retrieve.manifest.config as { question_maxlength?: number; n_passages?: number };
  mkdirSync(join(dataDir, 'retriever'), { recursive: true });

  // the collection, in file order, and its embeddings by the retriever of iteration t (the index's shards)
  const passagesFile = run.input(retrieve, 'passages');
  const passages = await loadPassages(passagesFile);
  const embeddings = collectEmbeddings(run, run.need(t, 'index'), passages.map((p) => p.id), passagesFile);
  writeJson(join(dataDir, 'passages.json'), passages.map((p) => [p.id, p.title, p.text]) satisfies SitePassages);
  writeFileSync(join(dataDir, 'embeddings.bin'), encodeEmbeddings(embeddings.data, dtype));

  // the retriever: resolved config, parameters under canonical names, tokenizer (the page's WordPiece must read it)
  const tokenizerFile = run.input(retrieve, 'tokenizer');
  const tokenizerJson = readFileSync(tokenizerFile, 'utf8');
  WordPieceTokenizer.fromJson(tokenizerJson, tokenizerFile);
  writeFileSync(join(dataDir, 'retriever', 'tokenizer.json'), tokenizerJson);
  await initBackend('cpu', { blas: false, log: () => undefined }); // only reads weights: no kernel runs
  const model = BiEncoder.load(run.input(retrieve, 'retriever'));
  try {
    if (model.dimension !== embeddings.dimension) {
      throw new UserError(`the retriever of iteration ${t} embeds in ${model.dimension} dimensions, its index in ${embeddings.dimension}`);
    }
    const weights: StateDict = new Map();
    for (const [name, v] of model.parameters()) weights.set(name, { dtype: 'F32', shape: [...v.shape], data: v.dataSync() as Float32Array });
    writeSafetensors(join(dataDir, 'retriever', 'model.safetensors'), weights, { format: 'fidkd-web' });
    writeJson(join(dataDir, 'retriever', 'config.json'), model.config);
  } finally {
    model.dispose();
  }

  // the rankings shown beside each passage: D⁰, then every retriever's Dᵗ⁺¹
  const rankings: RankSource[] = [];
  const rankFiles = new Map<string, string>();
  const initial = run.need(0, 'retrieve');
  const bm25 = run.bm25Settings();
  rankings.push({ key: 'initial', label: bm25 ? 'BM25' : 'D⁰' });
  rankFiles.set('initial', run.input(initial, 'dev'));
  for (const it of run.retrieverIterations()) {
    const f = rankingFile(run, it);
    if (!f) continue;
    rankings.push({ key: `iter-${it}`, label: `retriever ${it}`, iteration: it });
    rankFiles.set(`iter-${it}`, f);
  }
  const ranks = new Map<string, Map<string, FidExample>>();
  for (const [key, f] of rankFiles) ranks.set(key, new Map((await readQuestions(f)).map((q) => [q.id, q])));

  // the dev questions as reader t saw them (Dᵗ), with its scores G and its answers where the run has them
  const nContext = config.reader.n_context;
  const seen = await readQuestions(run.input(retrieve, 'dev'));
  const score = run.stage(t, 'score');
  const scoredFile = score ? run.output(score, OUTPUTS.scoredDev) : undefined;
  const scored = scoredFile ? new Map((await readQuestions(scoredFile)).map((q) => [q.id, q])) : undefined;
  if (!scored) notes.push(`no reader scores G of the dev questions (${score ? `${score.dir} predates scored dev files` : `iteration ${t} has no score stage`}): the page shows the passages without them`);
  const evaluate = run.stage(t, 'evaluate');
  const answersFile = evaluate ? run.output(evaluate, OUTPUTS.readerAnswers('dev')) : undefined;
  const answers = answersFile ? new Map((JSON.parse(readFileSync(answersFile, 'utf8')) as Array<{ id: string; answer: string; em: boolean }>).map((a) => [a.id, a])) : undefined;
  if (!answers) notes.push(`no reader answers (${evaluate ? `${evaluate.dir} predates answer files or ran without the reader` : `iteration ${t} was not evaluated`}): the page shows none`);

  const questions: SiteQuestion[] = seen.map((q) => {
    const s = scored?.get(q.id);
    const ctxs = (s ?? q).ctxs.slice(0, nContext);
    const gold = q.gold_passage_ids?.length ? q.gold_passage_ids : null;
    const relevant = (p: { id: string; has_answer?: boolean }): boolean => (gold ? gold.includes(p.id) : Boolean(p.has_answer));
    const rankOf = new Map([...ranks].map(([key, m]) => [key, new Map((m.get(q.id)?.ctxs ?? []).map((p, i) => [p.id, i + 1]))]));
    const passagesOfQ: SiteQuestionPassage[] = ctxs.map((p) => ({
      id: p.id,
      g: s && typeof p.score === 'number' ? p.score : null,
      has_answer: Boolean(p.has_answer),
      gold: gold ? gold.includes(p.id) : false,
      ranks: Object.fromEntries([...rankOf].map(([key, m]) => [key, m.get(p.id) ?? null])),
    }));
    const firstHit: Record<string, number | null> = {};
    for (const [key, m] of ranks) {
      const i = (m.get(q.id)?.ctxs ?? []).findIndex(relevant);
      firstHit[key] = i >= 0 ? i + 1 : null;
    }
    const a = answers?.get(q.id);
    return {
      id: q.id, question: q.question, answers: q.answers, gold, passages: passagesOfQ,
      answer: a ? a.answer : null, em: a ? a.em : null, first_hit: firstHit,
    };
  });
  writeJson(join(dataDir, 'questions.json'), questions);

  const manifest: SiteManifest = {
    format: SITE_FORMAT,
    run: {
      name: basename(run.dir), config_name: config.name, seed: config.seed, iterations: config.iterations, iteration: t,
      n_context: nContext, n_passages: rc.n_passages ?? config.retrieve.n_passages, k: config.evaluate.k,
      loss: config.retriever.loss, exported_at: new Date().toISOString(),
    },
    metrics: run.metricRows(),
    rankings,
    distilled: `iter-${t}`,
    initial: 'initial',
    questions: { file: 'questions.json', count: questions.length, split: 'dev', scored: Boolean(scored), answered: Boolean(answers) },
    passages: { file: 'passages.json', count: passages.length },
    bm25: { ...(bm25 ?? { k1: 0.9, b: 0.4 }), same_as_initial: Boolean(bm25) },
    retriever: {
      config_file: 'retriever/config.json', weights_file: 'retriever/model.safetensors', tokenizer_file: 'retriever/tokenizer.json',
      question_maxlength: rc.question_maxlength ?? config.retriever.question_maxlength,
    },
    embeddings: { file: 'embeddings.bin', dtype, count: passages.length, dimension: embeddings.dimension },
  };
  // site.json last: its presence marks a complete export
  writeJson(join(dataDir, 'site.json'), manifest);
  return { questions: questions.length, passages: passages.length, notes };
}

/** The embeddings of iteration t's index (its shards, named in the index manifest), in `ids` order. */
function collectEmbeddings(run: RunReader, index: DoneStage, ids: string[], passagesFile: string): { data: Float32Array; dimension: number } {
  const shardInputs = Object.keys(index.manifest.inputs).filter((k) => /^shard-\d+$/.test(k)).sort((a, b) => Number(a.slice(6)) - Number(b.slice(6)));
  const row = new Map(ids.map((id, i) => [id, i]));
  let data: Float32Array | undefined;
  let dimension = 0;
  const filled = new Uint8Array(ids.length);
  for (const k of shardInputs) {
    const file = run.input(index, k);
    const shard = readEmbeddingShard(file);
    if (!data) {
      dimension = shard.dimension;
      data = new Float32Array(ids.length * dimension);
    }
    shard.ids.forEach((id, i) => {
      const r = row.get(id);
      if (r === undefined) throw new UserError(`${file} embeds passage ${JSON.stringify(id)}, which ${passagesFile} does not hold`);
      data!.set(shard.embeddings.subarray(i * dimension, (i + 1) * dimension), r * dimension);
      filled[r] = 1;
    });
  }
  const missing = filled.indexOf(0);
  if (!data || missing >= 0) throw new UserError(`the embedding shards of ${index.dir} lack passage ${JSON.stringify(ids[Math.max(0, missing)])} of ${passagesFile}`);
  return { data, dimension };
}

/** Little-endian float32, or IEEE half precision (round to nearest even). */
function encodeEmbeddings(data: Float32Array, dtype: 'float32' | 'float16'): Uint8Array {
  if (dtype === 'float32') return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const half = new Uint16Array(data.length);
  for (let i = 0; i < data.length; i++) half[i] = f32ToF16Bits(data[i]!);
  return new Uint8Array(half.buffer);
}

function writeJson(file: string, value: unknown): void {
  writeFileSync(file, JSON.stringify(value));
}

/** Bytes of every file under `dir`. */
function treeBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += statSync(join(entry.parentPath, entry.name)).size;
  }
  return total;
}
