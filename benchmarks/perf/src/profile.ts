#!/usr/bin/env node
// Per-kernel time of one training step (tf.profile), to see what dominates:
//   node benchmarks/perf/dist/profile.js [--model bert-layer|reader|embed|retriever-step|reader-t5-small]
//        [--backend blas|cpu|wasm|webgpu|ort] [--small] [--top N] [--onnx FILE]
// bert-layer (default): one BERT-base layer forward + backward; --small uses 1 x 32 tokens (the stock cpu
// backend needs about a minute for the full 8 x 128 step). reader: one FiDReader.trainStep at the demo's
// shapes (DEMO_READER of suites/demo-steps.ts). embed / retriever-step / reader-t5-small: the rows of the
// retriever and reader suites (bert-base embedPassages of 8 x 200 tokens, the 2 x 4 x 200 KL step, the
// t5-small FiD step over 10 x 200 tokens). Time spent outside kernels (the tfjs engine, the gradient
// tape, JS loops of custom-gradient ops) is the step time minus the kernel time; `node --cpu-prof` shows it.
// --backend ort (with --model embed): ONNX Runtime's profiler on fidkd's export of the same bert-base batch, or on
// --onnx FILE (e.g. the embed-ort suite's torch.onnx graph); see src/ort-profile.ts.
import * as tf from '@tensorflow/tfjs';
import { option } from './args.js';
import { useBackend } from './backends.js';
import { profileOrtEmbed } from './ort-profile.js';
import { BERT_BASE_LAYER, bertLayerStep, initBertLayer } from './bert-layer-model.js';
import { DEMO_READER, readerStep } from './suites/demo-steps.js';
import { embedWorkload, retrieverStepWorkload } from './suites/retriever.js';
import { readerT5SmallWorkload } from './suites/reader.js';

/** One step to profile: a label, the step, and what to dispose afterwards. */
export interface Profiled {
  label: string;
  step(): void | Promise<void>;
  dispose(): void;
}

function bertLayer(small: boolean): Profiled {
  const c = small ? { ...BERT_BASE_LAYER, batch: 1, seqLen: 32 } : BERT_BASE_LAYER;
  const vars = initBertLayer(c);
  const x = tf.randomNormal([c.batch, c.seqLen, c.hidden]);
  const mask = tf.zeros([c.batch, 1, 1, c.seqLen]);
  const dy = tf.randomNormal([c.batch, c.seqLen, c.hidden]);
  return {
    label: `BERT-base layer, batch ${c.batch} x ${c.seqLen}`,
    step: async () => void (await bertLayerStep(c, vars, x, mask, dy)),
    dispose: () => tf.dispose([x, mask, dy, ...vars.values()]),
  };
}

function reader(): Profiled {
  const s = DEMO_READER;
  const r = readerStep(s);
  return { label: `demo reader trainStep, ${s.questions} x ${s.nContext} x ${s.textMaxlength}, d ${s.dModel}`, ...r };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const opt = (name: string, dflt: string): string => option(argv, name, dflt);
  const backend = opt('--backend', 'blas');
  const top = Number(opt('--top', '20'));
  const model = opt('--model', 'bert-layer');
  const models: Record<string, () => Profiled> = {
    'bert-layer': () => bertLayer(argv.includes('--small')),
    reader,
    embed: embedWorkload,
    'retriever-step': retrieverStepWorkload,
    'reader-t5-small': readerT5SmallWorkload,
  };
  const make = models[model];
  if (!make) throw new Error(`--model must be one of ${Object.keys(models).join(', ')}, got ${model}`);
  if (backend === 'ort') {
    // ONNX Runtime's own profiler (the embedding row only: ORT runs no training step here)
    if (model !== 'embed') throw new Error(`--backend ort profiles --model embed only, got --model ${model}`);
    await useBackend('cpu'); // builds the model whose weights are exported
    await profileOrtEmbed(argv.includes('--onnx') ? opt('--onnx', '') : null, top);
    return;
  }
  await useBackend(backend);
  const p = make();
  await p.step(); // warm-up
  await p.step();
  const t0 = performance.now();
  await p.step();
  const stepMs = performance.now() - t0;
  const prof = await tf.profile(() => p.step());
  const by = new Map<string, { ms: number; calls: number }>();
  for (const k of prof.kernels) {
    const e = by.get(k.name) ?? { ms: 0, calls: 0 };
    e.ms += Number(k.kernelTimeMs);
    e.calls++;
    by.set(k.name, e);
  }
  const total = [...by.values()].reduce((s, e) => s + e.ms, 0);
  console.log(`backend ${backend}, ${p.label}: step ${stepMs.toFixed(0)} ms, kernel time ${total.toFixed(0)} ms in ${prof.kernels.length} kernel calls`);
  console.log(`${'kernel'.padEnd(22)} ${'ms'.padStart(9)} ${'share'.padStart(6)} calls`);
  for (const [name, e] of [...by].sort((a, b) => b[1].ms - a[1].ms).slice(0, top)) {
    console.log(`${name.padEnd(22)} ${e.ms.toFixed(1).padStart(9)} ${((100 * e.ms) / total).toFixed(1).padStart(5)}% ${e.calls}`);
  }
  p.dispose();
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
