// demo-steps: one training step of the tiny models `fidkd demo` trains, at the demo's shapes —
//   * reader_train_step_ms_demo: ms per FiDReader.trainStep (AdamW, clip 1, dropout 0);
//   * retriever_train_step_ms_demo: ms per BiEncoder.trainStep (KL loss, AdamW, clip 1, dropout off);
//   * reader_train_step_ms_demo_v1: the reader at the demo's shapes before issue 11 (blas, blas-unfused), to
//     compare with earlier measurements —
// each beside the same model in plain PyTorch at the same shapes and threads (python/reader_step.py,
// python/retriever_step.py, 2 threads), and as `*_gflops_*` rows: the step's FLOP (src/step-flops.ts) per
// second as a fraction of OpenBLAS sgemm measured in the same run (interleaved with the steps).
import * as tf from '@tensorflow/tfjs';
import { AdamW } from '@fidkd/core';
import { BiEncoder } from '@fidkd/bi-encoder';
import { FiDReader } from '@fidkd/fid-reader';
import { useBackend } from '../backends.js';
import { randomReaderBatch, randomTokenBatch } from '../batches.js';
import { findTorchPython, runPythonJson } from '../python.js';
import { readerForwardFlop, retrieverForwardFlop, stepFlop, type ReaderStepShape, type RetrieverStepShape } from '../step-flops.js';
import { errorRow, type BenchRow, type Suite } from '../suite.js';
import { median } from '../timing.js';
import { SGEMM_REFERENCE, sgemmGflops } from './gemm.js';

/** A retriever step's shapes plus what the FLOP count does not need. */
export interface RetrieverBenchShape extends RetrieverStepShape {
  heads: number;
  vocabSize: number;
}

// The demo's shapes (reader: issue 19's pretrained checkpoint; retriever: issue 11), the one place to adjust them. They mirror apps/reproduce/src/demo/config.ts
// (copied: a benchmark must not import the app); keep them in step when the demo changes.
export const DEMO_READER: ReaderStepShape = {
  questions: 32, nContext: 10, textMaxlength: 32, answerLength: 3, vocabSize: 1000,
  dModel: 64, numHeads: 4, dKv: 16, dFf: 256, encoderLayers: 3, decoderLayers: 2,
};
export const DEMO_RETRIEVER: RetrieverBenchShape = {
  questions: 8, questionLength: 16, nContext: 10, passageLength: 32, vocabSize: 1000,
  hidden: 64, layers: 2, heads: 4, intermediate: 128,
};
/** The demo's reader before issue 11 (d_model 64, 2+1 layers, 16 × 10 × 40, vocab 2000). */
export const DEMO_READER_V1: ReaderStepShape = {
  questions: 16, nContext: 10, textMaxlength: 40, answerLength: 3, vocabSize: 2000,
  dModel: 64, numHeads: 4, dKv: 16, dFf: 128, encoderLayers: 2, decoderLayers: 1,
};

const WARMUP = 2;
const THREADS = 2;
const STOCK_CPU = 'cpu';
/** Backends that are the tfjs cpu backend with different kernels registered: one model serves them all. */
const CPU_FAMILY: readonly string[] = ['blas', 'blas-unfused', 'cpu'];

/** Throws when the timed steps left tensors behind (the warm-up steps create the optimizer state). */
function assertNoLeak(before: number, what: string): void {
  const after = tf.memory().numTensors;
  if (after !== before) throw new Error(`tensor leak in ${what}: ${after - before} tensors`);
}

/** A FiD reader at shapes `s` with its optimizer and a random batch: `step()` runs one training step. */
export function readerStep(s: ReaderStepShape): { step(): Promise<void>; dispose(): void } {
  const reader = FiDReader.create(
    { vocab_size: s.vocabSize, d_model: s.dModel, d_kv: s.dKv, num_heads: s.numHeads, d_ff: s.dFf, num_layers: s.encoderLayers, num_decoder_layers: s.decoderLayers, dropout_rate: 0 },
    { seed: 0 },
  );
  const optimizer = new AdamW({ lr: 1e-4 });
  const batch = randomReaderBatch({ questions: s.questions, nContext: s.nContext, textMaxlength: s.textMaxlength, answerLength: s.answerLength, vocabSize: s.vocabSize }, 1);
  return {
    step: async () => void (await reader.trainStepAsync(batch, { optimizer, lr: 1e-4, maxGradNorm: 1, dropout: 0 })),
    dispose: () => {
      optimizer.dispose();
      reader.dispose();
    },
  };
}

/** A bi-encoder at shapes `s` (it owns its optimizer) and a random batch: `step()` runs one training step. */
export function retrieverStep(s: RetrieverBenchShape): { step(): Promise<void>; dispose(): void } {
  const model = BiEncoder.create(
    {
      bert: {
        vocabSize: s.vocabSize, hiddenSize: s.hidden, numHiddenLayers: s.layers, numAttentionHeads: s.heads, intermediateSize: s.intermediate,
        maxPositionEmbeddings: Math.max(64, s.questionLength, s.passageLength), hiddenDropoutProb: 0, attentionProbsDropoutProb: 0,
      },
      retriever: { questionMaxlength: s.questionLength, passageMaxlength: s.passageLength },
    },
    { seed: 0 },
  );
  const batch = {
    questions: randomTokenBatch(s.questions, s.questionLength, s.vocabSize, 3),
    passages: randomTokenBatch(s.questions * s.nContext, s.passageLength, s.vocabSize, 4),
    gold: Float32Array.from({ length: s.questions * s.nContext }, (_, i) => Math.sin(i)),
  };
  // KL loss and clip 1 are the trainer's defaults.
  const opts = { lr: 1e-4, dropout: false };
  return { step: async () => void (await model.trainStepAsync(batch, opts)), dispose: () => model.dispose() };
}

/**
 * ms per step on each of `backends`, median of `reps`. The cpu-backend variants (blas, blas-unfused, cpu)
 * share one model and take turns step by step, so that a busy machine slows them alike; another backend
 * (wasm) gets its own model and runs its steps in a row. `between` runs after every round (the sgemm samples).
 */
async function stepTimes(make: () => { step(): Promise<void>; dispose(): void }, backends: readonly string[], reps: number, between: () => Promise<void>): Promise<Measured[]> {
  const out: Measured[] = [];
  const groups = [backends.filter((b) => CPU_FAMILY.includes(b)), ...backends.filter((b) => !CPU_FAMILY.includes(b)).map((b) => [b])];
  for (const group of groups) {
    if (group.length === 0) continue;
    const usable: string[] = [];
    for (const b of group) {
      try {
        await useBackend(b);
        usable.push(b);
      } catch (error) {
        out.push({ backend: b, error });
      }
    }
    if (usable.length === 0) continue;
    let model: { step(): Promise<void>; dispose(): void } | undefined;
    try {
      model = make();
      const m = model;
      const samples = new Map<string, number[]>(usable.map((b) => [b, []]));
      for (const b of usable) {
        await useBackend(b);
        for (let i = 0; i < WARMUP; i++) await m.step();
      }
      const before = tf.memory().numTensors;
      for (let r = 0; r < reps; r++) {
        for (const b of usable) {
          await useBackend(b);
          const t0 = performance.now();
          await m.step();
          samples.get(b)!.push(performance.now() - t0);
        }
        await between();
      }
      assertNoLeak(before, 'the training step');
      for (const b of usable) out.push({ backend: b, ms: median(samples.get(b)!) });
    } catch (error) {
      for (const b of usable) out.push({ backend: b, error });
    } finally {
      model?.dispose();
    }
  }
  return out;
}

function pytorchReaderMs(s: ReaderStepShape, reps: number): { ms: number; label: string } {
  const r = runPythonJson<{ train_seconds: number; threads: number; torch: string }>('reader_step.py', [
    '--batch', String(s.questions), '--n', String(s.nContext), '--L', String(s.textMaxlength), '--T', String(s.answerLength),
    '--d', String(s.dModel), '--dkv', String(s.dKv), '--heads', String(s.numHeads), '--dff', String(s.dFf),
    '--layers', String(s.encoderLayers), '--dec-layers', String(s.decoderLayers), '--vocab', String(s.vocabSize),
    '--new-tokens', '0', '--clip', '1', '--reps', String(reps), '--threads', String(THREADS),
  ]);
  return { ms: r.train_seconds * 1000, label: `pytorch-${r.torch} (${r.threads} threads)` };
}

function pytorchRetrieverMs(s: RetrieverBenchShape, reps: number): { ms: number; label: string } {
  const r = runPythonJson<{ step_seconds: number; threads: number; torch: string }>('retriever_step.py', [
    '--vocab', String(s.vocabSize), '--hidden', String(s.hidden), '--layers', String(s.layers), '--heads', String(s.heads),
    '--ffn', String(s.intermediate), '--plen', String(s.passageLength), '--qlen', String(s.questionLength),
    '--embed-batch', '8', '--questions', String(s.questions), '--n-context', String(s.nContext),
    '--reps', String(reps), '--threads', String(THREADS),
  ]);
  return { ms: r.step_seconds * 1000, label: `pytorch-${r.torch} (${r.threads} threads)` };
}

interface StepCase {
  /** Row name of the ms/step rows; the FLOP-rate rows replace `_ms_` by `_gflops_`. */
  name: string;
  /** Backends this case runs on (intersected with the requested ones). */
  backends: readonly string[] | 'all';
  flop: number;
  shape: string;
  make(): { step(): Promise<void>; dispose(): void };
  reference(reps: number): { ms: number; label: string };
}

const CASES: readonly StepCase[] = [
  {
    name: 'reader_train_step_ms_demo', backends: 'all', flop: stepFlop(readerForwardFlop(DEMO_READER)), shape: readerShape(DEMO_READER),
    make: () => readerStep(DEMO_READER), reference: (reps) => pytorchReaderMs(DEMO_READER, reps),
  },
  {
    name: 'retriever_train_step_ms_demo', backends: 'all', flop: stepFlop(retrieverForwardFlop(DEMO_RETRIEVER)), shape: retrieverShape(DEMO_RETRIEVER),
    make: () => retrieverStep(DEMO_RETRIEVER), reference: (reps) => pytorchRetrieverMs(DEMO_RETRIEVER, reps),
  },
  {
    name: 'reader_train_step_ms_demo_v1', backends: ['blas', 'blas-unfused'], flop: stepFlop(readerForwardFlop(DEMO_READER_V1)), shape: readerShape(DEMO_READER_V1),
    make: () => readerStep(DEMO_READER_V1), reference: (reps) => pytorchReaderMs(DEMO_READER_V1, reps),
  },
];

function readerShape(s: ReaderStepShape): string {
  return `T5 d ${s.dModel}, ${s.numHeads}x${s.dKv} heads, ff ${s.dFf}, ${s.encoderLayers}+${s.decoderLayers} layers, vocab ${s.vocabSize}; ` +
    `${s.questions} questions x ${s.nContext} passages x ${s.textMaxlength} tokens, ${s.answerLength}-token answers; AdamW + clip 1, dropout 0`;
}

function retrieverShape(s: RetrieverBenchShape): string {
  return `BERT h ${s.hidden}, ${s.layers} layers, ${s.heads} heads, ffn ${s.intermediate}, vocab ${s.vocabSize}; ` +
    `${s.questions} questions x ${s.questionLength} tokens + ${s.nContext} passages each x ${s.passageLength} tokens; KL loss, AdamW + clip 1, dropout off`;
}

type Measured = { backend: string; ms: number } | { backend: string; error: unknown };

/** The ms rows (vs PyTorch) and the FLOP-rate rows (vs sgemm) of one case. */
function rowsOf(c: StepCase, measured: readonly Measured[], ref: { ms: number; label: string } | { error: string }, sgemm: number | null, reps: number): BenchRow[] {
  const gflopsName = c.name.replace('_ms_', '_gflops_');
  const refNote = 'error' in ref ? `; PyTorch reference failed: ${ref.error}` : '';
  const cpu = measured.find((m) => m.backend === STOCK_CPU && 'ms' in m);
  const cpuMs = cpu && 'ms' in cpu ? cpu.ms : null;
  const gflops = (ms: number): number => c.flop / (ms / 1000) / 1e9;
  const rateRow = (backend: string, ms: number, extra: string): BenchRow => ({
    name: gflopsName, backend, value: gflops(ms), unit: 'GFLOP/s',
    reference: sgemm === null ? null : SGEMM_REFERENCE, reference_value: sgemm,
    ratio: sgemm === null ? null : gflops(ms) / sgemm, ratio_kind: 'throughput',
    notes: `${(c.flop / 1e9).toFixed(3)} GFLOP per step (forward + backward matmuls, src/step-flops.ts) / ${ms.toFixed(1)} ms; ratio = fraction of sgemm` +
      (sgemm === null ? ' (sgemm needs the @fidkd/tfjs-blas addon)' : '') + extra,
  });
  const rows: BenchRow[] = [];
  for (const m of measured) {
    if (!('ms' in m)) {
      rows.push(errorRow(c.name, m.backend, m.error));
      continue;
    }
    rows.push({
      name: c.name, backend: m.backend, value: m.ms, unit: 'ms',
      reference: 'error' in ref ? null : ref.label, reference_value: 'error' in ref ? null : ref.ms,
      ratio: 'error' in ref ? null : m.ms / ref.ms, ratio_kind: 'time',
      notes: `median of ${reps} reps after ${WARMUP} warm-up steps (blas, blas-unfused and cpu take turns step by step); ${c.shape}; ratio = time / PyTorch time` +
        (cpuMs !== null && m.backend !== STOCK_CPU ? `; ${(m.ms / cpuMs).toFixed(3)} x the stock cpu time` : '') + refNote,
    });
  }
  for (const m of measured) if ('ms' in m) rows.push(rateRow(m.backend, m.ms, ''));
  if (!('error' in ref)) rows.push(rateRow('pytorch', ref.ms, ` (${ref.label})`));
  return rows;
}

export const demoStepsSuite: Suite = {
  name: 'demo-steps',
  description: `training steps at the demo's shapes (tiny T5 FiD reader ${DEMO_READER.questions}x${DEMO_READER.nContext}x${DEMO_READER.textMaxlength}, tiny BERT retriever ${DEMO_RETRIEVER.questions}x${DEMO_RETRIEVER.nContext}), ms per step vs PyTorch, GFLOP/s vs sgemm`,
  // The demo models are small enough for the stock kernels; blas-unfused is blas without the fused T5
  // attention / RMS-norm kernels (the reader's path before them): the before/after comparisons are the point.
  defaultBackends: ['blas', 'blas-unfused', 'cpu', 'wasm', 'webgpu'],
  async run(ctx) {
    const sgemmSamples: number[] = [];
    const sampleSgemm = async (): Promise<void> => {
      const g = await sgemmGflops();
      if (g !== null) sgemmSamples.push(g);
    };
    const results: { c: StepCase; measured: Measured[]; ref: { ms: number; label: string } | { error: string } }[] = [];
    for (const c of CASES) {
      const backends = c.backends === 'all' ? ctx.backends : ctx.backends.filter((b) => c.backends.includes(b));
      if (backends.length === 0) continue;
      await sampleSgemm();
      const measured = await stepTimes(c.make, backends, ctx.reps, sampleSgemm);
      for (const m of measured) {
        if ('ms' in m) ctx.log(`${c.name} ${m.backend}: ${m.ms.toFixed(1)} ms/step, ${(c.flop / m.ms / 1e6).toFixed(2)} GFLOP/s`);
      }
      let ref: { ms: number; label: string } | { error: string };
      try {
        if (!findTorchPython()) throw new Error('python3 with torch not found (apt-get install -y python3-torch)');
        await sampleSgemm();
        ref = c.reference(ctx.reps);
        ctx.log(`${c.name} pytorch: ${ref.ms.toFixed(1)} ms/step (${ref.label})`);
      } catch (error) {
        ref = { error: error instanceof Error ? error.message : String(error) };
      }
      results.push({ c, measured, ref });
    }
    await sampleSgemm();
    const sgemm = sgemmSamples.length > 0 ? median(sgemmSamples) : null;
    if (sgemm !== null) ctx.log(`sgemm: ${sgemm.toFixed(1)} GFLOP/s (median of ${sgemmSamples.length}, interleaved)`);
    return results.flatMap((r) => rowsOf(r.c, r.measured, r.ref, sgemm, ctx.reps));
  },
};
