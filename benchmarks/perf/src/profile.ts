#!/usr/bin/env node
// Per-kernel time of one BERT-base layer forward + backward (tf.profile), to see what dominates:
//   node benchmarks/perf/dist/profile.js [--backend blas|cpu|wasm] [--small] [--top N]
// --small uses 1 x 32 tokens (the stock cpu backend needs about a minute for the full 8 x 128 step).
import * as tf from '@tensorflow/tfjs';
import { useBackend } from './backends.js';
import { BERT_BASE_LAYER, bertLayerStep, initBertLayer } from './bert-layer-model.js';

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const opt = (name: string, dflt: string): string => {
    const i = argv.indexOf(name);
    return i >= 0 && argv[i + 1] ? argv[i + 1]! : dflt;
  };
  const backend = opt('--backend', 'blas');
  const top = Number(opt('--top', '20'));
  const c = argv.includes('--small') ? { ...BERT_BASE_LAYER, batch: 1, seqLen: 32 } : BERT_BASE_LAYER;
  await useBackend(backend);
  const vars = initBertLayer(c);
  const x = tf.randomNormal([c.batch, c.seqLen, c.hidden]);
  const mask = tf.zeros([c.batch, 1, 1, c.seqLen]);
  const dy = tf.randomNormal([c.batch, c.seqLen, c.hidden]);
  bertLayerStep(c, vars, x, mask, dy); // warm-up
  const t0 = performance.now();
  bertLayerStep(c, vars, x, mask, dy);
  const stepMs = performance.now() - t0;
  const prof = await tf.profile(() => void bertLayerStep(c, vars, x, mask, dy));
  const by = new Map<string, { ms: number; calls: number }>();
  for (const k of prof.kernels) {
    const e = by.get(k.name) ?? { ms: 0, calls: 0 };
    e.ms += Number(k.kernelTimeMs);
    e.calls++;
    by.set(k.name, e);
  }
  const total = [...by.values()].reduce((s, e) => s + e.ms, 0);
  console.log(`backend ${backend}, batch ${c.batch} x ${c.seqLen}: step ${stepMs.toFixed(0)} ms, kernel time ${total.toFixed(0)} ms in ${prof.kernels.length} kernel calls`);
  console.log(`${'kernel'.padEnd(22)} ${'ms'.padStart(9)} ${'share'.padStart(6)} calls`);
  for (const [name, e] of [...by].sort((a, b) => b[1].ms - a[1].ms).slice(0, top)) {
    console.log(`${name.padEnd(22)} ${e.ms.toFixed(1).padStart(9)} ${((100 * e.ms) / total).toFixed(1).padStart(5)}% ${e.calls}`);
  }
  tf.dispose([x, mask, dy, ...vars.values()]);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
