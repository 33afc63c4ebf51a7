// Cheap deterministic stand-ins for the seven stages (plain JS vectors instead of T5/BERT/faiss), with the
// same data flow, mid-stage checkpoints and sleeps so that a test can SIGKILL a process inside every stage.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '../runner/atomic.js';
import type { StageContext } from '../runner/stage-runner.js';
import type { PipelineConfig } from '../config.js';
import type { StageImplementations } from '../pipeline.js';

import { mulberry32 } from '@fidkd/core';

export { mulberry32 };

const DIM = 6;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
interface ToyPassage { id: string; vec: number[] }
interface ToyQuestion { id: string; vec: number[]; answer: string; ctxs: Array<{ id: string; score?: number; has_answer?: boolean }> }
const readJson = <T>(p: string): T => JSON.parse(readFileSync(p, 'utf8')) as T;
const dot = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0);

/** Writes a toy world (passages + D⁰ question files) and returns the data paths. */
export function writeToyWorld(dir: string, seed: number, nPassages = 40, nQuestions = 12): PipelineConfig['data'] {
  const rnd = mulberry32(seed);
  mkdirSync(dir, { recursive: true });
  const passages: ToyPassage[] = Array.from({ length: nPassages }, (_, i) => ({ id: `p${i}`, vec: Array.from({ length: DIM }, () => rnd() - 0.5) }));
  writeFileSync(join(dir, 'passages.json'), JSON.stringify(passages));
  const split = (name: string) => {
    const qs: ToyQuestion[] = Array.from({ length: nQuestions }, (_, i) => {
      const ans = passages[Math.floor(rnd() * nPassages)]!;
      const vec = ans.vec.map((x) => x + (rnd() - 0.5) * 0.6);
      // D⁰: a noisy "lexical" ranking
      const ranked = passages.map((p) => ({ id: p.id, s: dot(p.vec, vec) + (rnd() - 0.5) })).sort((a, b) => b.s - a.s).slice(0, 8);
      return { id: `${name}${i}`, vec, answer: ans.id, ctxs: ranked.map((r) => ({ id: r.id, has_answer: r.id === ans.id })) };
    });
    writeFileSync(join(dir, `${name}.json`), JSON.stringify(qs));
    return join(dir, `${name}.json`);
  };
  return { passages: join(dir, 'passages.json'), train: split('train'), dev: split('dev'), test: split('test') };
}

/** A resumable toy trainer: SGD on `w` with checkpoints in ctx.checkpointDir every `every` steps. */
async function toyTrain(ctx: StageContext<{ seed: number; total_steps: number; checkpoint_every: number; lr: number }>, size: number, grad: (w: number[], rnd: () => number) => number[], init?: number[]): Promise<{ w: number[]; loss: number }> {
  const { seed, total_steps, checkpoint_every, lr } = ctx.config;
  let w = init ?? Array.from({ length: size }, (_, i) => ((i * 7919) % 13) / 13 - 0.5);
  let start = 0;
  const ckpts = existsSync(ctx.checkpointDir) ? readdirSync(ctx.checkpointDir).filter((n) => /^step-\d+\.json$/.test(n)).sort() : [];
  const last = ckpts[ckpts.length - 1];
  if (last) {
    const s = readJson<{ step: number; w: number[] }>(join(ctx.checkpointDir, last));
    w = s.w;
    start = s.step;
    ctx.log(`resuming from step ${start}`);
  }
  let loss = 0;
  for (let step = start; step < total_steps; step++) {
    const rnd = mulberry32(seed * 1000 + step); // batch order depends on (seed, step) only: resumable
    const g = grad(w, rnd);
    w = w.map((x, i) => x - lr * g[i]!);
    loss = g.reduce((s, x) => s + x * x, 0);
    ctx.step(step + 1, { loss }, total_steps);
    await sleep(8);
    if (checkpoint_every && (step + 1) % checkpoint_every === 0 && step + 1 < total_steps) {
      writeJsonAtomic(join(ctx.checkpointDir, `step-${String(step + 1).padStart(6, '0')}.json`), { step: step + 1, w });
      ctx.checkpointSaved(step + 1, ctx.checkpointDir);
    }
  }
  return { w, loss };
}

const passagesOf = (p: string) => new Map(readJson<ToyPassage[]>(p).map((x) => [x.id, x.vec]));
const embed = (M: number[], v: number[]) => Array.from({ length: DIM }, (_, i) => dot(M.slice(i * DIM, (i + 1) * DIM), v));

export function toyStages(): StageImplementations {
  return {
    async 'train-reader'(ctx) {
      const train = readJson<ToyQuestion[]>(ctx.inputs.train!);
      const P = passagesOf(join(dirname(ctx.inputs.tokenizer!), 'passages.json'));
      const init = ctx.inputs.init ? readJson<{ w: number[] }>(join(ctx.inputs.init, 'reader.json')).w : undefined;
      const { w, loss } = await toyTrain(ctx, DIM, (w, rnd) => {
        const q = train[Math.floor(rnd() * train.length)]!;
        const a = P.get(q.answer)!;
        return w.map((x, i) => 0.1 * x - q.vec[i]! * a[i]!);
      }, init);
      writeJsonAtomic(join(ctx.outDir, 'reader.json'), { w });
      return { loss };
    },
    async score(ctx) {
      const w = readJson<{ w: number[] }>(join(ctx.inputs.reader!, 'reader.json')).w;
      const P = passagesOf(join(dirname(ctx.inputs.tokenizer!), 'passages.json'));
      const train = readJson<ToyQuestion[]>(ctx.inputs.train!);
      for (const q of train) {
        for (const c of q.ctxs) c.score = w.reduce((s, x, i) => s + x * q.vec[i]! * P.get(c.id)![i]!, 0);
        await sleep(3);
      }
      writeJsonAtomic(join(ctx.outDir, 'train.json'), train);
      return { questions: train.length };
    },
    async 'train-retriever'(ctx) {
      const train = readJson<ToyQuestion[]>(ctx.inputs.train!);
      const P = passagesOf(join(dirname(ctx.inputs.tokenizer!), 'passages.json'));
      const init = ctx.inputs.init ? readJson<{ M: number[] }>(join(ctx.inputs.init, 'retriever.json')).M : undefined;
      const eye = Array.from({ length: DIM * DIM }, (_, i) => (i % (DIM + 1) === 0 ? 1 : 0));
      const { w, loss } = await toyTrain(ctx, DIM * DIM, (M, rnd) => {
        const q = train[Math.floor(rnd() * train.length)]!;
        const gold = q.ctxs.map((c) => (ctx.config.loss === 'has_answer' ? (c.has_answer ? 1 : 0) : c.score ?? 0));
        const eq = embed(M, q.vec);
        const s = q.ctxs.map((c) => dot(eq, P.get(c.id)!));
        // gradient of squared error between scores and gold, w.r.t. M (through the question embedding)
        const g = new Array<number>(DIM * DIM).fill(0);
        q.ctxs.forEach((c, j) => {
          const e = s[j]! - gold[j]!;
          const p = P.get(c.id)!;
          for (let a = 0; a < DIM; a++) for (let b = 0; b < DIM; b++) g[a * DIM + b]! += e * p[a]! * q.vec[b]! * 0.1;
        });
        return g;
      }, init ?? eye);
      writeJsonAtomic(join(ctx.outDir, 'retriever.json'), { M: w });
      return { loss };
    },
    async embed(ctx) {
      const M = readJson<{ M: number[] }>(join(ctx.inputs.retriever!, 'retriever.json')).M;
      const all = readJson<ToyPassage[]>(ctx.inputs.passages!);
      const mine = all.filter((_, i) => i % ctx.config.num_shards === ctx.config.shard_id);
      const vecs = new Float32Array(mine.length * DIM);
      for (let i = 0; i < mine.length; i++) {
        vecs.set(embed(M, mine[i]!.vec), i * DIM);
        if (i % 4 === 0) await sleep(5);
      }
      // written in two parts on purpose: a kill between them must not leave a half shard behind
      writeFileAtomic(join(ctx.outDir, 'embeddings.safetensors'), new Uint8Array(vecs.buffer));
      await sleep(10);
      writeJsonAtomic(join(ctx.outDir, 'ids.json'), mine.map((p) => p.id));
      return { passages: mine.length };
    },
    async index(ctx) {
      const ids: string[] = [];
      const vecs: number[][] = [];
      for (let k = 0; k < ctx.config.num_shards; k++) {
        const f = ctx.inputs[`shard-${k}`]!;
        const v = new Float32Array(new Uint8Array(readFileSync(f)).buffer); // copy: a Buffer may view a shared pool
        const sid = readJson<string[]>(join(dirname(f), 'ids.json'));
        sid.forEach((id, i) => { ids.push(id); vecs.push(Array.from(v.subarray(i * DIM, (i + 1) * DIM))); });
        await sleep(10);
      }
      writeJsonAtomic(join(ctx.outDir, 'index.json'), { ids, vecs });
      return { vectors: ids.length };
    },
    async retrieve(ctx) {
      const M = readJson<{ M: number[] }>(join(ctx.inputs.retriever!, 'retriever.json')).M;
      const { ids, vecs } = readJson<{ ids: string[]; vecs: number[][] }>(join(ctx.inputs.index!, 'index.json'));
      for (const s of ctx.config.splits) {
        const qs = readJson<ToyQuestion[]>(ctx.inputs[s]!);
        for (const q of qs) {
          const eq = embed(M, q.vec);
          const ranked = ids.map((id, i) => ({ id, s: dot(eq, vecs[i]!) })).sort((a, b) => b.s - a.s || (a.id < b.id ? -1 : 1)).slice(0, ctx.config.n_passages);
          q.ctxs = ranked.map((r) => ({ id: r.id, score: r.s, has_answer: r.id === q.answer }));
        }
        writeJsonAtomic(join(ctx.outDir, `${s}.json`), qs);
        await sleep(15);
      }
    },
    async evaluate(ctx) {
      const metrics: Record<string, number> = {};
      const w = ctx.config.reader_em ? readJson<{ w: number[] }>(join(ctx.inputs.reader!, 'reader.json')).w : undefined;
      const P = w ? passagesOf(join(dirname(ctx.inputs.tokenizer!), 'passages.json')) : undefined;
      for (const s of ctx.config.splits) {
        const qs = readJson<ToyQuestion[]>(ctx.inputs[s]!);
        for (const k of ctx.config.k) metrics[`${s}.recall@${k}`] = qs.filter((q) => q.ctxs.slice(0, k).some((c) => c.has_answer)).length / qs.length;
        if (w && P) {
          let em = 0;
          for (const q of qs) {
            const best = q.ctxs.slice(0, ctx.config.n_context).map((c) => ({ id: c.id, s: w.reduce((a, x, i) => a + x * q.vec[i]! * P.get(c.id)![i]!, 0) })).sort((a, b) => b.s - a.s)[0];
            if (best?.id === q.answer) em++;
          }
          metrics[`${s}.em`] = em / qs.length;
        }
        await sleep(10);
      }
      writeJsonAtomic(join(ctx.outDir, 'metrics.json'), metrics);
      return metrics;
    },
  };
}

/** A small pipeline config over the toy world (tokenizer paths point at the world's passages for the toys). */
export function toyConfig(data: PipelineConfig['data'], seed = 7): PipelineConfig {
  const optim = { lr: 0.05, weight_decay: 0, warmup_steps: 0, total_steps: 12, scheduler: 'linear' as const, batch_size: 1, accumulation_steps: 1, clip: 1, checkpoint_every: 4 };
  return {
    name: 'toy', seed, iterations: 2, data,
    tokenizer: { reader: data.passages, retriever: data.passages },
    reader: { ...optim, model: { toy: true }, n_context: 4, text_maxlength: 8, answer_maxlength: 4, continue_from_previous: false, eval_batch_size: 4 },
    score: { softmax: 'pre', positions: 'first', log_mass: false, batch_size: 4 },
    retriever: { ...optim, model: { toy: true }, question_maxlength: 8, passage_maxlength: 8, n_context: 8, loss: 'kl', continue_from_previous: true, in_batch_negatives: false },
    embed: { num_shards: 2, batch_size: 8 },
    index: { factory: 'Flat' },
    retrieve: { n_passages: 8, batch_size: 8 },
    evaluate: { k: [1, 5], splits: ['dev', 'test'], reader_em: true, max_em_questions: 0 },
    baseline: { has_answer: true },
  };
}

export { rmSync };
