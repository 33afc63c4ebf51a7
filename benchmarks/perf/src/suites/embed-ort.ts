// embed-ort: passage embedding by fidkd's engines beside ONNX Runtime, in one process, runs interleaved, with
// the OpenBLAS sgemm rate sampled between them —
//   * fidkd `ort`: the retriever exported by @fidkd/bi-encoder's own ONNX exporter, run by onnxruntime-node
//     (OrtEmbedder: what the embed stage and the harness use by default when onnxruntime-node is installed);
//   * fidkd `blas`: BiEncoder.embedPassages on tfjs with the @fidkd/tfjs-blas kernels;
//   * the reference: the same weights in a plain-torch BERT exported by torch.onnx (python/onnx_export.py,
//     opset 14, Debian's python3-torch), run by the same onnxruntime-node with the same session options (2
//     threads, optimisation 'all', no spinning) and the same batches —
// at bert-base (8 passages × 200 real tokens, masked mean) and at the demo's retriever size (64 passages × 40
// tokens, hidden 64, 2 layers), 2 threads each; plus the largest |difference| between the engines' embeddings
// and the peak RSS of a fresh process per engine (src/peak-rss.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { BiEncoder, OrtEmbedder, loadOnnxRuntime, type BiEncoderConfigInput, type OrtModule, type OrtSession } from '@fidkd/bi-encoder';
import type { TokenBatch } from '@fidkd/core';
import { useBackend } from '../backends.js';
import { randomTokenBatch } from '../batches.js';
import { probePeakRss } from '../peak-rss.js';
import { findTorchPython, runPythonJson } from '../python.js';
import { bertSequenceFlop } from '../step-flops.js';
import { errorRow, type BenchRow, type Suite } from '../suite.js';
import { median } from '../timing.js';
import { SGEMM_REFERENCE, sgemmGflops } from './gemm.js';

const THREADS = 2;

interface Size {
  label: string;
  bert: { vocabSize: number; hiddenSize: number; numHiddenLayers: number; numAttentionHeads: number; intermediateSize: number; maxPositionEmbeddings: number };
  passages: number;
  length: number;
  batchSize: number;
}

export const EMBED_SIZES: Readonly<Record<'bert-base' | 'demo', Size>> = {
  'bert-base': {
    label: 'bert_base_8x200',
    bert: { vocabSize: 30522, hiddenSize: 768, numHiddenLayers: 12, numAttentionHeads: 12, intermediateSize: 3072, maxPositionEmbeddings: 512 },
    passages: 8, length: 200, batchSize: 8,
  },
  // the demo's retriever (apps/reproduce/src/demo/config.ts): hidden 64, 2 layers, 4 heads, FFN 128, passages of
  // 40 tokens embedded 64 at a time (embed.batch_size); vocabulary of the demo's tokenizer size
  demo: {
    label: 'demo_64x40',
    bert: { vocabSize: 1000, hiddenSize: 64, numHiddenLayers: 2, numAttentionHeads: 4, intermediateSize: 128, maxPositionEmbeddings: 64 },
    passages: 2048, length: 40, batchSize: 64, // 32 runs of 64 per rep: runs of ~5 ms each, timed together
  },
};

/** The model of a size with fixed weights (seed 0): the same in every process of the suite. */
export function embedModel(size: Size): BiEncoder {
  return BiEncoder.create({ bert: size.bert } satisfies BiEncoderConfigInput, { seed: 0 });
}

export function embedBatch(size: Size): TokenBatch {
  return randomTokenBatch(size.passages, size.length, size.bert.vocabSize, 1);
}

/** ONNX Runtime session options of every ORT run here (the reference's and OrtEmbedder's are the same). */
export const ORT_OPTIONS = { threads: THREADS, graphOptimizationLevel: 'all', spinning: false } as const;

/** ORT_OPTIONS as onnxruntime-node session options, for a session opened here on a graph file or bytes. */
export function ortSessionOptions(): Record<string, unknown> {
  return {
    executionProviders: ['cpu'], graphOptimizationLevel: ORT_OPTIONS.graphOptimizationLevel, intraOpNumThreads: ORT_OPTIONS.threads,
    interOpNumThreads: 1, executionMode: 'sequential', logSeverityLevel: 3,
    extra: { session: { intra_op: { allow_spinning: ORT_OPTIONS.spinning ? '1' : '0' } } },
  };
}

/** int64 input_ids / attention_mask feeds of rows [start, end) of `batch` (the torch.onnx graph's input type). */
export function int64Feeds(ort: OrtModule, batch: TokenBatch, start = 0, end = batch.count): Record<string, unknown> {
  const Tensor = ort.Tensor as unknown as new (type: 'int64', data: BigInt64Array, dims: readonly number[]) => unknown;
  const L = batch.length;
  const dims = [end - start, L];
  const int64 = (a: Int32Array) => BigInt64Array.from(a.subarray(start * L, end * L), (x) => BigInt(x));
  return { input_ids: new Tensor('int64', int64(batch.ids), dims), attention_mask: new Tensor('int64', int64(batch.mask), dims) };
}

/** The torch.onnx reference graph of `model`'s weights, written into `dir` (needs python3-torch). */
export function torchOnnxReference(model: BiEncoder, dir: string): { file: string; label: string } {
  if (!findTorchPython()) throw new Error('python3 with torch not found (apt-get install -y python3-torch)');
  const ckpt = join(dir, 'checkpoint');
  model.save(ckpt, { layout: 'bert' });
  const r = runPythonJson<{ file: string; torch: string; opset: number }>('onnx_export.py', [
    '--checkpoint', ckpt, '--out', join(dir, 'torch.onnx'), '--heads', String(model.config.bert.numAttentionHeads),
  ]);
  return { file: r.file, label: `torch ${r.torch} torch.onnx opset ${r.opset}` };
}

/**
 * A session on the reference graph and its int64 feeds for `batch` in runs of `batchSize` rows (as OrtEmbedder and
 * BiEncoder embed them); run() returns the embeddings of every row.
 */
export async function referenceRunner(ort: OrtModule, file: string, batch: TokenBatch, batchSize = batch.count): Promise<{ run(): Promise<Float32Array>; release(): Promise<void> }> {
  const session: OrtSession = await ort.InferenceSession.create(file, ortSessionOptions());
  const runs: Array<Record<string, unknown>> = [];
  for (let s = 0; s < batch.count; s += batchSize) runs.push(int64Feeds(ort, batch, s, Math.min(batch.count, s + batchSize)));
  return {
    run: async () => {
      const parts: Float32Array[] = [];
      for (const feeds of runs) parts.push((await session.run(feeds as never))['embeddings']!.data as Float32Array);
      if (parts.length === 1) return parts[0]!;
      const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
      let off = 0;
      for (const p of parts) {
        out.set(p, off);
        off += p.length;
      }
      return out;
    },
    release: () => session.release(),
  };
}

/** rss-probe.js workload: OrtEmbedder.load of a saved bert-base checkpoint, embedding the bert-base batch. */
export async function ortEmbedWorkload(checkpoint: string): Promise<{ step(): Promise<void>; dispose(): void }> {
  if (!checkpoint) throw new Error('embed-ort needs --checkpoint DIR');
  const size = EMBED_SIZES['bert-base'];
  const e = await OrtEmbedder.load(checkpoint, ORT_OPTIONS);
  const batch = embedBatch(size);
  return { step: async () => void (await e.embedPassages(batch, { batchSize: size.batchSize })), dispose: () => void e.dispose() };
}

/** rss-probe.js workload: a session on the torch.onnx reference file, embedding the bert-base batch. */
export async function ortReferenceWorkload(file: string): Promise<{ step(): Promise<void>; dispose(): void }> {
  if (!file) throw new Error('embed-ort-reference needs --onnx FILE');
  const size = EMBED_SIZES['bert-base'];
  const r = await referenceRunner(await loadOnnxRuntime(), file, embedBatch(size), size.batchSize);
  return { step: async () => void (await r.run()), dispose: () => void r.release() };
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`embedding sizes differ: ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

interface Measured {
  ort: number;
  tfjs: number;
  ref: number | null;
  refLabel: string | null;
  refError?: string;
  diffTfjs: number;
  diffRef: number | null;
  sgemm: number | null;
  /** Peak RSS (MB) of a fresh process per engine, when asked for; an error message instead where it failed. */
  rss: Partial<Record<'ort' | 'blas' | 'reference', number | string>>;
}

async function measureSize(size: Size, reps: number, log: (m: string) => void, withRss: boolean): Promise<Measured> {
  const ort = await loadOnnxRuntime();
  await useBackend('blas');
  const model = embedModel(size);
  const batch = embedBatch(size);
  const dir = mkdtempSync(join(tmpdir(), 'fidkd-bench-ort-'));
  let embedder: OrtEmbedder | undefined;
  let reference: Awaited<ReturnType<typeof referenceRunner>> | undefined;
  try {
    embedder = await OrtEmbedder.fromBiEncoder(model, ORT_OPTIONS);
    let refLabel: string | null = null;
    let refError: string | undefined;
    let refFile: string | undefined;
    try {
      const r = torchOnnxReference(model, dir);
      refFile = r.file;
      reference = await referenceRunner(ort, r.file, batch, size.batchSize);
      refLabel = `onnxruntime-node (${r.label}, ${THREADS} threads)`;
    } catch (err) {
      refError = err instanceof Error ? err.message : String(err);
      log(`reference unavailable: ${refError}`);
    }
    const e = embedder;
    const runs = {
      ort: async () => e.embedPassages(batch, { batchSize: size.batchSize }),
      tfjs: async () => model.embedPassages(batch, { batchSize: size.batchSize }),
      ref: reference ? reference.run : null,
    };
    // warm-up, and the embeddings compared
    const outOrt = await runs.ort();
    const outTfjs = await runs.tfjs();
    const outRef = runs.ref ? await runs.ref() : null;
    const before = tf.memory().numTensors;
    const samples: Record<'ort' | 'tfjs' | 'ref' | 'sgemm', number[]> = { ort: [], tfjs: [], ref: [], sgemm: [] };
    for (let i = 0; i < reps; i++) {
      const g = await sgemmGflops();
      if (g !== null) samples.sgemm.push(g);
      // the engines' order rotates each rep: none always runs right after the sgemm sample or another engine
      const engines = ['ort', 'tfjs', 'ref'] as const;
      for (const k of engines.map((_, j) => engines[(i + j) % engines.length]!)) {
        const fn = runs[k];
        if (!fn) continue;
        const t0 = performance.now();
        await fn();
        samples[k].push(size.passages / ((performance.now() - t0) / 1000));
      }
    }
    if (tf.memory().numTensors !== before) throw new Error(`tensor leak in embedPassages: ${tf.memory().numTensors - before} tensors`);
    const m: Measured = {
      ort: median(samples.ort), tfjs: median(samples.tfjs), ref: runs.ref ? median(samples.ref) : null, refLabel, refError,
      diffTfjs: maxAbsDiff(outOrt, outTfjs), diffRef: outRef ? maxAbsDiff(outOrt, outRef) : null,
      sgemm: samples.sgemm.length ? median(samples.sgemm) : null,
      rss: {},
    };
    if (withRss) {
      // after the timed runs: a fresh process per engine (the checkpoint torchOnnxReference saved is OrtEmbedder.load's input)
      const ckpt = join(dir, 'checkpoint');
      if (!refFile) model.save(ckpt, { layout: 'bert' });
      const probes: Array<['ort' | 'blas' | 'reference', () => number]> = [
        ['ort', () => probePeakRss('embed-ort', 'cpu', ['--checkpoint', ckpt])],
        ['blas', () => probePeakRss('embed', 'blas')],
        ...(refFile ? [['reference', () => probePeakRss('embed-ort-reference', 'cpu', ['--onnx', refFile])] as ['reference', () => number]] : []),
      ];
      for (const [engine, probe] of probes) {
        try {
          m.rss[engine] = probe();
          log(`peak RSS ${engine}: ${(m.rss[engine] as number).toFixed(0)} MB`);
        } catch (err) {
          m.rss[engine] = err instanceof Error ? err.message : String(err);
        }
      }
    }
    log(`${size.label}: ort ${m.ort.toFixed(2)}, tfjs ${m.tfjs.toFixed(2)}, reference ${m.ref?.toFixed(2) ?? '-'} passages/s; sgemm ${m.sgemm?.toFixed(1) ?? '-'} GFLOP/s; ` +
      `max |ort − tfjs| ${m.diffTfjs.toExponential(2)}, max |ort − reference| ${m.diffRef?.toExponential(2) ?? '-'}`);
    return m;
  } finally {
    await embedder?.dispose();
    await reference?.release();
    model.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

export const embedOrtSuite: Suite = {
  name: 'embed-ort',
  description: `passage embedding: fidkd's ONNX export on onnxruntime-node and tfjs (blas) vs a torch.onnx graph on onnxruntime-node, bert-base 8x200 and demo size, ${THREADS} threads, + sgemm and peak RSS`,
  defaultBackends: ['ort', 'blas'],
  async run(ctx) {
    const rows: BenchRow[] = [];
    for (const [key, size] of Object.entries(EMBED_SIZES) as Array<[keyof typeof EMBED_SIZES, Size]>) {
      const name = (what: string) => `embed_${what}_${size.label}`;
      let m: Measured;
      try {
        m = await measureSize(size, ctx.reps, ctx.log, key === 'bert-base');
      } catch (err) {
        rows.push(errorRow(name('passages'), 'ort', err));
        continue;
      }
      const refNote = m.refError ? `; reference failed: ${m.refError}` : '';
      const vsRef = (v: number) => (m.ref ? v / m.ref : null);
      const passageRow = (backend: string, value: number, notes: string): BenchRow => ({
        name: name('passages_per_s'), backend, value, unit: 'passages/s', reference: m.refLabel, reference_value: m.ref,
        ratio: vsRef(value), ratio_kind: 'throughput',
        notes: `median of ${ctx.reps} interleaved reps of ${size.passages} passages x ${size.length} tokens (batch ${size.batchSize}), masked mean, ${THREADS} threads; ratio = passages/s / reference's; ${notes}${refNote}`,
      });
      rows.push(passageRow('ort', m.ort, `fidkd's own ONNX export (@fidkd/bi-encoder OrtEmbedder), graph optimisation all, no spinning`));
      rows.push(passageRow('blas', m.tfjs, 'BiEncoder.embedPassages on tfjs cpu + @fidkd/tfjs-blas'));
      const flop = bertSequenceFlop({ layers: size.bert.numHiddenLayers, hidden: size.bert.hiddenSize, intermediate: size.bert.intermediateSize }, size.length);
      for (const [backend, v] of [['ort', m.ort], ['blas', m.tfjs], ['reference', m.ref]] as const) {
        if (v === null) continue;
        const gflops = (v * flop) / 1e9;
        rows.push({
          name: name('gflops'), backend, value: gflops, unit: 'GFLOP/s', reference: m.sgemm === null ? null : SGEMM_REFERENCE, reference_value: m.sgemm,
          ratio: m.sgemm === null ? null : gflops / m.sgemm, ratio_kind: 'throughput',
          notes: `${(flop / 1e9).toFixed(3)} GFLOP of matrix products per passage x passages/s; sgemm sampled before every rep of the same run` + (backend === 'reference' ? `; ${m.refLabel}` : ''),
        });
      }
      rows.push({
        name: name('max_abs_diff_ort_vs_tfjs'), backend: 'ort', value: m.diffTfjs, unit: 'abs', reference: 'tolerance', reference_value: 1e-5,
        ratio: m.diffTfjs / 1e-5, ratio_kind: 'memory',
        notes: `largest |ORT − tfjs| over every embedding value; vs the torch.onnx reference: ${m.diffRef === null ? '-' : m.diffRef.toExponential(2)}`,
      });
      // peak RSS: a fresh process per engine (model built or loaded, two embeddings)
      for (const [engine, v] of Object.entries(m.rss)) {
        if (typeof v === 'string') {
          rows.push(errorRow(name('peak_rss_mb'), engine, new Error(v)));
          continue;
        }
        rows.push({
          name: name('peak_rss_mb'), backend: engine, value: v, unit: 'MB', reference: m.rss.reference === undefined || typeof m.rss.reference === 'string' ? null : m.refLabel,
          reference_value: typeof m.rss.reference === 'number' ? m.rss.reference : null,
          ratio: typeof m.rss.reference === 'number' ? v / m.rss.reference : null, ratio_kind: 'memory',
          notes: `VmHWM of a fresh process that embeds ${size.passages} passages twice: ` +
            (engine === 'ort' ? 'OrtEmbedder.load of the saved checkpoint (export in memory + session)' : engine === 'blas' ? 'BiEncoder.create + embedPassages' : 'a session on the torch.onnx file (its export not counted)'),
        });
      }
    }
    return rows;
  },
};
