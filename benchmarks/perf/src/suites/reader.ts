// reader: the @fidkd/fid-reader at t5-small size (d_model 512, 8 heads × 64, d_ff 2048, 6+6 layers, vocab 32128)
// as Fusion-in-Decoder over n = 10 passages × 200 tokens (one question per step) —
//   * reader_train_tokens_per_s: encoder tokens per second of FiDReader.trainStep (teacher forcing on a
//     16-token answer, mean CE, AdamW, clipping, dropout off);
//   * reader_generate_ms: latency of FiDReader.generate for one question, 20 greedy tokens (encoder once,
//     cross-attention keys/values reused) —
// beside the same model in plain PyTorch (python/reader_step.py, 2 threads; `transformers` is not needed).
import * as tf from '@tensorflow/tfjs';
import { AdamW, type ReaderBatch } from '@fidkd/core';
import { FiDReader } from '@fidkd/fid-reader';
import { isSlowBackend, useBackend } from '../backends.js';
import { randomReaderBatch } from '../batches.js';
import { findTorchPython, runPythonJson } from '../python.js';
import { errorRow, type BenchRow, type Suite } from '../suite.js';
import { timeIt } from '../timing.js';
import { probePeakRss, rssRow } from '../peak-rss.js';

const T5_SMALL = { vocab_size: 32128, d_model: 512, d_kv: 64, num_heads: 8, d_ff: 2048, num_layers: 6, num_decoder_layers: 6, dropout_rate: 0 };
const N_CONTEXT = 10;
const TEXT_MAXLENGTH = 200;
const ANSWER_LENGTH = 16;
const NEW_TOKENS = 20;
const QUESTIONS = 1;

const fullBatch = (seed: number): ReaderBatch =>
  randomReaderBatch({ questions: QUESTIONS, nContext: N_CONTEXT, textMaxlength: TEXT_MAXLENGTH, answerLength: ANSWER_LENGTH, vocabSize: T5_SMALL.vocab_size }, seed);

const TRAIN_OPTIONS = { lr: 1e-4, maxGradNorm: 1, dropout: 0 };

/** The training row's workload alone (for profile.js): one t5-small FiD trainStep. */
export function readerT5SmallWorkload(): { label: string; step(): Promise<void>; dispose(): void } {
  const reader = FiDReader.create({ ...T5_SMALL, eos_token_id: T5_SMALL.vocab_size - 1 }, { seed: 0 });
  const optimizer = new AdamW({ lr: 1e-4 });
  const batch = fullBatch(1);
  return {
    label: `t5-small FiD trainStep, ${QUESTIONS} x ${N_CONTEXT} x ${TEXT_MAXLENGTH} tokens`,
    step: async () => void (await reader.trainStepAsync(batch, { optimizer, ...TRAIN_OPTIONS })),
    dispose: () => {
      optimizer.dispose();
      reader.dispose();
    },
  };
}

const TRAIN = 'reader_train_tokens_per_s_t5_small_10x200';
const GEN = 'reader_generate_ms_t5_small_10x200_20tok';
const TRAIN_RSS = 'reader_train_peak_rss_mb_t5_small_10x200';

export const readerSuite: Suite = {
  name: 'reader',
  description: 'FiD reader at t5-small size, 1 question x 10 passages x 200 tokens: training tokens/s and 20-token greedy generation latency, vs PyTorch (2 threads)',
  // A t5-small FiD step is ~0.25 TFLOP: minutes on the stock cpu kernels, so those run only when asked for.
  defaultBackends: ['blas'],
  async run(ctx) {
    const rows: BenchRow[] = [];
    const measured: { backend: string; tokensPerS?: number; genMs?: number; rssMb?: number; reps: number }[] = [];
    const tokens = QUESTIONS * N_CONTEXT * TEXT_MAXLENGTH;
    for (const backend of ctx.backends) {
      let reader: FiDReader | undefined;
      let optimizer: AdamW | undefined;
      try {
        await useBackend(backend);
        const slow = isSlowBackend(backend);
        const reps = slow ? 1 : ctx.reps;
        // eos = the last id, which random weights practically never emit: every generation runs NEW_TOKENS steps.
        reader = FiDReader.create({ ...T5_SMALL, eos_token_id: T5_SMALL.vocab_size - 1 }, { seed: 0 });
        optimizer = new AdamW({ lr: 1e-4 });
        const batch = fullBatch(1);
        const r = reader;
        const o = optimizer;
        const entry: (typeof measured)[number] = { backend, reps };
        measured.push(entry);
        const step = await timeIt(async () => void (await r.trainStepAsync(batch, { optimizer: o, ...TRAIN_OPTIONS })), reps, 1);
        entry.tokensPerS = tokens / step.seconds;
        ctx.log(`${TRAIN} ${backend}: ${entry.tokensPerS.toFixed(0)} tokens/s (${(step.seconds * 1000).toFixed(0)} ms/step)`);
        const before = tf.memory().numTensors;
        const gen = await timeIt(async () => void (await r.generateAsync(batch, { maxNewTokens: NEW_TOKENS })), reps, slow ? 0 : 1);
        if (tf.memory().numTensors !== before) throw new Error(`tensor leak: ${tf.memory().numTensors - before} tensors per generate`);
        entry.genMs = gen.seconds * 1000;
        ctx.log(`${GEN} ${backend}: ${entry.genMs.toFixed(0)} ms`);
      } catch (err) {
        rows.push(errorRow(`${TRAIN}|${GEN}`, backend, err));
      } finally {
        optimizer?.dispose();
        reader?.dispose();
      }
      if (backend !== 'cpu' && backend !== 'wasm') {
        try {
          const rssMb = probePeakRss('reader-t5-small', backend);
          const entry = measured.find((m) => m.backend === backend);
          if (entry) entry.rssMb = rssMb;
          ctx.log(`${TRAIN_RSS} ${backend}: ${rssMb.toFixed(0)} MB`);
        } catch (err) {
          rows.push(errorRow(TRAIN_RSS, backend, err));
        }
      }
    }
    let ref: { train: number; gen: number; rssMb: number | null; label: string } | null = null;
    let refError: string | undefined;
    try {
      const py = findTorchPython();
      if (!py) throw new Error('python3 with torch not found (apt-get install -y python3-torch)');
      const r = runPythonJson<{ train_seconds: number; generate_seconds: number; train_peak_rss_mb: number | null; threads: number; torch: string }>('reader_step.py', [
        '--batch', String(QUESTIONS), '--n', String(N_CONTEXT), '--L', String(TEXT_MAXLENGTH), '--T', String(ANSWER_LENGTH),
        '--d', String(T5_SMALL.d_model), '--dkv', String(T5_SMALL.d_kv), '--heads', String(T5_SMALL.num_heads),
        '--dff', String(T5_SMALL.d_ff), '--layers', String(T5_SMALL.num_layers), '--vocab', String(T5_SMALL.vocab_size),
        '--new-tokens', String(NEW_TOKENS), '--reps', String(ctx.reps), '--threads', '2',
        // The same clipping as TRAIN_OPTIONS (global norm 1): the step measured is the same on both sides.
        '--clip', String(TRAIN_OPTIONS.maxGradNorm),
      ]);
      ref = { train: tokens / r.train_seconds, gen: r.generate_seconds * 1000, rssMb: r.train_peak_rss_mb, label: `pytorch-${r.torch} (${r.threads} threads)` };
      ctx.log(`reader reference: ${ref.train.toFixed(0)} tokens/s, generate ${ref.gen.toFixed(0)} ms (${ref.label})`);
    } catch (err) {
      refError = err instanceof Error ? err.message : String(err);
    }
    const refNote = refError ? `; reference failed: ${refError}` : '';
    for (const m of measured) {
      if (m.tokensPerS !== undefined) {
        rows.push({
          name: TRAIN, backend: m.backend, value: m.tokensPerS, unit: 'tokens/s',
          reference: ref?.label ?? null, reference_value: ref?.train ?? null,
          ratio: ref ? m.tokensPerS / ref.train : null, ratio_kind: 'throughput',
          notes: `median of ${m.reps} reps; encoder tokens (${QUESTIONS}x${N_CONTEXT}x${TEXT_MAXLENGTH}) per trainStep incl. AdamW + clipping; ratio = tfjs / PyTorch` + refNote,
        });
      }
      if (m.genMs !== undefined) {
        rows.push({
          name: GEN, backend: m.backend, value: m.genMs, unit: 'ms',
          reference: ref?.label ?? null, reference_value: ref?.gen ?? null,
          ratio: ref ? m.genMs / ref.gen : null, ratio_kind: 'time',
          notes: `median of ${m.reps} reps; encoder + ${NEW_TOKENS} greedy steps, same algorithm in both (no self-attention KV cache); ratio = tfjs time / PyTorch time` + refNote,
        });
      }
      if (m.rssMb !== undefined) {
        rows.push(rssRow(TRAIN_RSS, m.backend, m.rssMb, ref,
          'peak RSS (VmHWM) of a fresh process that builds the reader and runs 2 training steps; PyTorch: its process after building the model and its training steps' + refNote));
      }
    }
    return rows;
  },
};
