// retriever: the @fidkd/bi-encoder at bert-base size (hidden 768, 12 layers, 12 heads, FFN 3072) on 200-token
// passages —
//   * retriever_embed_passages: passages/s of BiEncoder.embedPassages (no grad, masked mean, all tokens real),
//     also as GFLOP/s (matmul FLOP from the shapes) against OpenBLAS sgemm sampled between the runs, and the peak
//     RSS of a fresh process doing it (src/peak-rss.ts);
//   * retriever_train_step: ms per BiEncoder.trainStep (KL loss, AdamW, clipping, dropout off) on 2 questions of
//     40 tokens x 4 passages of 200 tokens —
// beside the same model in plain PyTorch (python/retriever_step.py, 2 threads; `transformers` is not needed).
import * as tf from '@tensorflow/tfjs';
import { BiEncoder } from '@fidkd/bi-encoder';
import type { TokenBatch } from '@fidkd/core';
import { isSlowBackend, useBackend } from '../backends.js';
import { randomTokenBatch } from '../batches.js';
import { findTorchPython, runPythonJson } from '../python.js';
import { errorRow, type BenchRow, type Suite } from '../suite.js';
import { median, timeIt } from '../timing.js';
import { probePeakRss, rssRow } from '../peak-rss.js';
import { bertSequenceFlop } from '../step-flops.js';
import { SGEMM_REFERENCE, sgemmGflops } from './gemm.js';

const BERT_BASE = { vocabSize: 30522, hiddenSize: 768, numHiddenLayers: 12, numAttentionHeads: 12, intermediateSize: 3072, maxPositionEmbeddings: 512 };
const PASSAGE_LEN = 200;
const QUESTION_LEN = 40;
const EMBED_BATCH = 8;
const QUESTIONS = 2;
const N_CONTEXT = 4;

const fullBatch = (count: number, length: number, seed: number): TokenBatch => randomTokenBatch(count, length, BERT_BASE.vocabSize, seed);

/** The embedding row's workload alone (for profile.js): embedPassages of one batch of 200-token passages. */
export function embedWorkload(): { label: string; step(): Promise<void>; dispose(): void } {
  const model = BiEncoder.create({ bert: BERT_BASE }, { seed: 0 });
  const passages = fullBatch(EMBED_BATCH, PASSAGE_LEN, 1);
  return {
    label: `bert-base embedPassages, ${EMBED_BATCH} x ${PASSAGE_LEN} tokens`,
    step: async () => void (await model.embedPassages(passages, { batchSize: EMBED_BATCH })),
    dispose: () => model.dispose(),
  };
}

function trainBatch() {
  return { questions: fullBatch(QUESTIONS, QUESTION_LEN, 2), passages: fullBatch(QUESTIONS * N_CONTEXT, PASSAGE_LEN, 3), gold: Float32Array.from({ length: QUESTIONS * N_CONTEXT }, (_, i) => Math.sin(i)) };
}

const TRAIN_OPTIONS = { lr: 1e-4, dropout: false };

/** The training-step row's workload alone (for profile.js). */
export function retrieverStepWorkload(): { label: string; step(): Promise<void>; dispose(): void } {
  const model = BiEncoder.create({ bert: BERT_BASE }, { seed: 0 });
  const batch = trainBatch();
  return {
    label: `bert-base retriever trainStep, ${QUESTIONS} x ${QUESTION_LEN} + ${QUESTIONS} x ${N_CONTEXT} x ${PASSAGE_LEN} tokens`,
    step: async () => void (await model.trainStepAsync(batch, TRAIN_OPTIONS)),
    dispose: () => model.dispose(),
  };
}

const EMBED = 'retriever_embed_passages_bert_base_200tok';
const STEP = 'retriever_train_step_bert_base_2x4x200';
const EMBED_RSS = 'retriever_embed_peak_rss_mb_bert_base_200tok';
const EMBED_GFLOPS = 'retriever_embed_gflops_bert_base_200tok';
/** Matrix-product FLOP of embedding one passage (src/step-flops.ts; embeddings, norms, pooling not counted). */
const PASSAGE_FLOP = bertSequenceFlop({ layers: BERT_BASE.numHiddenLayers, hidden: BERT_BASE.hiddenSize, intermediate: BERT_BASE.intermediateSize }, PASSAGE_LEN);

export const retrieverSuite: Suite = {
  name: 'retriever',
  description: 'bi-encoder at bert-base size: embedPassages passages/s (200 tokens) and a KL training step (2 questions x 4 passages), vs PyTorch (2 threads)',
  // The stock cpu / wasm kernels need about a minute per bert-base passage: only when asked for.
  defaultBackends: ['blas'],
  async run(ctx) {
    const rows: BenchRow[] = [];
    const measured: { backend: string; embed?: number; stepMs?: number; rssMb?: number; reps: number; embedCount: number }[] = [];
    // OpenBLAS sgemm sampled before every timed embedding run (the GFLOP/s row's reference, same load).
    const sgemmSamples: number[] = [];
    for (const backend of ctx.backends) {
      let model: BiEncoder | undefined;
      try {
        await useBackend(backend);
        const slow = isSlowBackend(backend);
        const reps = slow ? 1 : ctx.reps;
        model = BiEncoder.create({ bert: BERT_BASE }, { seed: 0 });
        // Slow backends embed 1 passage per timed run (a bert-base passage is ~34 GFLOP).
        const embedCount = slow ? 1 : EMBED_BATCH;
        const passages = fullBatch(embedCount, PASSAGE_LEN, 1);
        const m = model;
        const before = tf.memory().numTensors;
        const embed = await timeIt(async () => void (await m.embedPassages(passages, { batchSize: EMBED_BATCH })), reps, slow ? 0 : 1, async () => {
          const g = await sgemmGflops();
          if (g !== null) sgemmSamples.push(g);
        });
        if (tf.memory().numTensors !== before) throw new Error(`tensor leak in embedPassages: ${tf.memory().numTensors - before} tensors`);
        const perS = embedCount / embed.seconds;
        ctx.log(`${EMBED} ${backend}: ${perS.toFixed(2)} passages/s`);
        const entry: (typeof measured)[number] = { backend, embed: perS, reps, embedCount };
        measured.push(entry);
        if (!slow || ctx.backends.length === 1) {
          const batch = trainBatch();
          const opts = TRAIN_OPTIONS;
          // Untimed warm-up step (it also creates the optimizer state); later steps must not add tensors.
          if (!slow) await m.trainStepAsync(batch, opts);
          const afterWarmup = tf.memory().numTensors;
          const step = await timeIt(async () => void (await m.trainStepAsync(batch, opts)), reps, 0);
          if (!slow && tf.memory().numTensors !== afterWarmup) {
            throw new Error(`tensor leak in trainStep: ${tf.memory().numTensors - afterWarmup} tensors`);
          }
          entry.stepMs = step.seconds * 1000;
          ctx.log(`${STEP} ${backend}: ${entry.stepMs.toFixed(0)} ms/step`);
        }
        model.dispose();
        model = undefined;
        if (!slow) {
          entry.rssMb = probePeakRss('embed', backend);
          ctx.log(`${EMBED_RSS} ${backend}: ${entry.rssMb.toFixed(0)} MB`);
        }
      } catch (err) {
        model?.dispose();
        rows.push(errorRow(EMBED, backend, err));
      }
    }
    let ref: { embed: number; stepMs: number; rssMb: number | null; label: string } | null = null;
    let refError: string | undefined;
    try {
      if (!findTorchPython()) throw new Error('python3 with torch not found (apt-get install -y python3-torch)');
      const r = runPythonJson<{ embed_passages_per_s: number; step_seconds: number; embed_peak_rss_mb: number | null; threads: number; torch: string }>('retriever_step.py', [
        '--plen', String(PASSAGE_LEN), '--qlen', String(QUESTION_LEN), '--embed-batch', String(EMBED_BATCH),
        '--questions', String(QUESTIONS), '--n-context', String(N_CONTEXT), '--reps', String(Math.min(ctx.reps, 3)), '--threads', '2',
      ]);
      ref = { embed: r.embed_passages_per_s, stepMs: r.step_seconds * 1000, rssMb: r.embed_peak_rss_mb, label: `pytorch-${r.torch} (${r.threads} threads)` };
      ctx.log(`retriever reference: ${ref.embed.toFixed(2)} passages/s, ${ref.stepMs.toFixed(0)} ms/step (${ref.label})`);
    } catch (err) {
      refError = err instanceof Error ? err.message : String(err);
    }
    const note = refError ? `; reference failed: ${refError}` : '';
    const sgemm = sgemmSamples.length > 0 ? median(sgemmSamples) : null;
    if (sgemm !== null) ctx.log(`sgemm: ${sgemm.toFixed(1)} GFLOP/s (median of ${sgemmSamples.length}, interleaved with the embedding runs)`);
    for (const m of measured) {
      if (m.embed !== undefined) {
        const gflops = (m.embed * PASSAGE_FLOP) / 1e9;
        rows.push({
          name: EMBED_GFLOPS, backend: m.backend, value: gflops, unit: 'GFLOP/s',
          reference: sgemm === null ? null : SGEMM_REFERENCE, reference_value: sgemm,
          ratio: sgemm === null ? null : gflops / sgemm, ratio_kind: 'throughput',
          notes: `${(PASSAGE_FLOP / 1e9).toFixed(2)} GFLOP per passage (matmuls of 12 layers, src/step-flops.ts) x passages/s; ratio = fraction of sgemm sampled before every embedding run` +
            (ref ? `; PyTorch: ${((ref.embed * PASSAGE_FLOP) / 1e9).toFixed(1)} GFLOP/s` : ''),
        });
        rows.push({
          name: EMBED, backend: m.backend, value: m.embed, unit: 'passages/s',
          reference: ref?.label ?? null, reference_value: ref?.embed ?? null,
          ratio: ref ? m.embed / ref.embed : null, ratio_kind: 'throughput',
          notes: `median of ${m.reps} reps of ${m.embedCount} passages (batch ${EMBED_BATCH}); ratio = tfjs / PyTorch${note}`,
        });
      }
      if (m.stepMs !== undefined) {
        rows.push({
          name: STEP, backend: m.backend, value: m.stepMs, unit: 'ms/step',
          reference: ref?.label ?? null, reference_value: ref?.stepMs ?? null,
          ratio: ref ? m.stepMs / ref.stepMs : null, ratio_kind: 'time',
          notes: `median of ${m.reps} reps; KL loss, AdamW, clip 1, dropout off; ratio = tfjs time / PyTorch time${note}`,
        });
      }
      if (m.rssMb !== undefined) {
        rows.push(rssRow(EMBED_RSS, m.backend, m.rssMb, ref,
          `peak RSS (VmHWM) of a fresh process that builds the model and embeds ${EMBED_BATCH} passages twice; PyTorch: its process after building the model and embedding${note}`));
      }
    }
    return rows;
  },
};
