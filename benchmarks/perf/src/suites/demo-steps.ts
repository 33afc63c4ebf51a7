// demo-steps: one training step of the tiny models `fidkd demo` trains, on every backend, so that the stock
// tfjs kernels (cpu, wasm) and blas can be compared at the size the demo actually runs —
//   * reader_train_step_ms_demo: ms per FiDReader.trainStep (16 questions x 10 passages x 40 tokens, 3-token
//     answers, AdamW, clip 1, dropout 0);
//   * retriever_train_step_ms_demo: ms per BiEncoder.trainStep (8 questions of 16 tokens x 10 passages of 40
//     tokens, KL loss, AdamW, clip 1, dropout off) —
// beside the stock `cpu` backend measured in the same run (the "before" of the README).
import * as tf from '@tensorflow/tfjs';
import { AdamW } from '@fidkd/core';
import { BiEncoder } from '@fidkd/bi-encoder';
import { FiDReader } from '@fidkd/fid-reader';
import { useBackend } from '../backends.js';
import { randomReaderBatch, randomTokenBatch } from '../batches.js';
import { errorRow, type BenchRow, type Suite } from '../suite.js';
import { timeIt } from '../timing.js';

// These mirror DEMO_DEFAULTS in apps/reproduce/src/demo/config.ts (copied: a benchmark must not import the app).
// Keep them in step when the demo changes.
const VOCAB_SIZE = 2000;
const READER_MODEL = { d_model: 64, d_kv: 16, num_heads: 4, d_ff: 128, num_layers: 2, num_decoder_layers: 1, dropout_rate: 0 };
const RETRIEVER_BERT = {
  hiddenSize: 64, numHiddenLayers: 2, numAttentionHeads: 4, intermediateSize: 128, maxPositionEmbeddings: 64,
  hiddenDropoutProb: 0, attentionProbsDropoutProb: 0,
};
const N_CONTEXT = 10;
const TEXT_MAXLENGTH = 40;
const QUESTION_MAXLENGTH = 16;
const PASSAGE_MAXLENGTH = 40;
// The demo trains the reader with batch 8; the reader experiments of apps/reproduce/README.md use 16, measured here.
const READER_BATCH = 16;
const RETRIEVER_BATCH = 8;
// Not a demo setting (answer_maxlength is a cap): a typical short answer.
const ANSWER_LENGTH = 3;
const WARMUP = 2;

const READER = 'reader_train_step_ms_demo';
const RETRIEVER = 'retriever_train_step_ms_demo';
const REFERENCE_BACKEND = 'cpu';
const REFERENCE_LABEL = 'tfjs-cpu (stock kernels)';

/** Throws when the timed steps left tensors behind (the warm-up steps create the optimizer state). */
function assertNoLeak(before: number, what: string): void {
  const after = tf.memory().numTensors;
  if (after !== before) throw new Error(`tensor leak in ${what}: ${after - before} tensors`);
}

async function readerStepMs(reps: number): Promise<number> {
  let reader: FiDReader | undefined;
  let optimizer: AdamW | undefined;
  try {
    reader = FiDReader.create({ vocab_size: VOCAB_SIZE, ...READER_MODEL }, { seed: 0 });
    optimizer = new AdamW({ lr: 1e-4 });
    const r = reader;
    const o = optimizer;
    const batch = randomReaderBatch({ questions: READER_BATCH, nContext: N_CONTEXT, textMaxlength: TEXT_MAXLENGTH, answerLength: ANSWER_LENGTH, vocabSize: VOCAB_SIZE }, 1);
    const step = (): void => void r.trainStep(batch, { optimizer: o, lr: 1e-4, maxGradNorm: 1, dropout: 0 });
    for (let i = 0; i < WARMUP; i++) step();
    const before = tf.memory().numTensors;
    const { seconds } = await timeIt(step, reps, 0);
    assertNoLeak(before, 'FiDReader.trainStep');
    return seconds * 1000;
  } finally {
    optimizer?.dispose();
    reader?.dispose();
  }
}

async function retrieverStepMs(reps: number): Promise<number> {
  let model: BiEncoder | undefined;
  try {
    model = BiEncoder.create(
      { bert: { vocabSize: VOCAB_SIZE, ...RETRIEVER_BERT }, retriever: { questionMaxlength: QUESTION_MAXLENGTH, passageMaxlength: PASSAGE_MAXLENGTH } },
      { seed: 0 },
    );
    const m = model;
    const batch = {
      questions: randomTokenBatch(RETRIEVER_BATCH, QUESTION_MAXLENGTH, VOCAB_SIZE, 3),
      passages: randomTokenBatch(RETRIEVER_BATCH * N_CONTEXT, PASSAGE_MAXLENGTH, VOCAB_SIZE, 4),
      gold: Float32Array.from({ length: RETRIEVER_BATCH * N_CONTEXT }, (_, i) => Math.sin(i)),
    };
    // Same options as the retriever suite; the model owns its optimizer (disposed with it).
    const opts = { lr: 1e-4, dropout: false };
    const step = (): void => void m.trainStep(batch, opts);
    for (let i = 0; i < WARMUP; i++) step();
    const before = tf.memory().numTensors;
    const { seconds } = await timeIt(step, reps, 0);
    assertNoLeak(before, 'BiEncoder.trainStep');
    return seconds * 1000;
  } finally {
    model?.dispose();
  }
}

type Measured = { backend: string; ms: number } | { backend: string; error: unknown };

/** Rows of one benchmark, each beside the stock cpu time of the same run when cpu was measured. */
function rowsOf(name: string, measured: readonly Measured[], reps: number, shape: string): BenchRow[] {
  const cpu = measured.find((m) => m.backend === REFERENCE_BACKEND && 'ms' in m);
  const refMs = cpu && 'ms' in cpu ? cpu.ms : null;
  return measured.map((m) => {
    if (!('ms' in m)) return errorRow(name, m.backend, m.error);
    return {
      name, backend: m.backend, value: m.ms, unit: 'ms',
      reference: refMs === null ? null : REFERENCE_LABEL, reference_value: refMs,
      ratio: refMs === null ? null : m.ms / refMs, ratio_kind: 'time',
      notes: `median of ${reps} reps after ${WARMUP} warm-up steps; ${shape}; ratio = time / stock cpu time` +
        (refMs === null ? ' (cpu not measured in this run)' : ''),
    };
  });
}

export const demoStepsSuite: Suite = {
  name: 'demo-steps',
  description: `training steps at the demo's sizes (tiny T5 reader ${READER_BATCH}x${N_CONTEXT}x${TEXT_MAXLENGTH}, tiny BERT retriever ${RETRIEVER_BATCH}x${N_CONTEXT}), ms per step, vs the stock tfjs cpu kernels`,
  // The demo models are small enough for the stock kernels: the before/after comparison is the point.
  defaultBackends: ['blas', 'cpu', 'wasm'],
  async run(ctx) {
    const reader: Measured[] = [];
    const retriever: Measured[] = [];
    for (const backend of ctx.backends) {
      try {
        await useBackend(backend);
      } catch (error) {
        reader.push({ backend, error });
        retriever.push({ backend, error });
        continue;
      }
      // Each model separately: a failure of one still leaves the other's row.
      for (const [name, list, measure] of [[READER, reader, readerStepMs], [RETRIEVER, retriever, retrieverStepMs]] as const) {
        try {
          const ms = await measure(ctx.reps);
          list.push({ backend, ms });
          ctx.log(`${name} ${backend}: ${ms.toFixed(1)} ms/step`);
        } catch (error) {
          list.push({ backend, error });
        }
      }
    }
    return [
      ...rowsOf(READER, reader, ctx.reps, `${READER_BATCH} questions x ${N_CONTEXT} passages x ${TEXT_MAXLENGTH} tokens, ${ANSWER_LENGTH}-token answers, AdamW + clip 1, dropout 0`),
      ...rowsOf(RETRIEVER, retriever, ctx.reps, `${RETRIEVER_BATCH} questions x ${QUESTION_MAXLENGTH} tokens, ${N_CONTEXT} passages each x ${PASSAGE_MAXLENGTH} tokens, KL loss, AdamW + clip 1, dropout off`),
    ];
  },
};
