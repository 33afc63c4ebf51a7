// bert_base_layer_fwd_bwd: one BERT-base encoder layer (hidden 768, 12 heads, FFN 3072, batch 8 x 128
// tokens) forward + backward (gradients of all weights and the input) in tfjs, versus the same layer in
// PyTorch (python/bert_layer.py, torch.set_num_threads(2)) run by this process right after.
import * as tf from '@tensorflow/tfjs';
import { isSlowBackend, useBackend } from '../backends.js';
import { BERT_BASE_LAYER, bertLayerStep, initBertLayer } from '../bert-layer-model.js';
import { findTorchPython, runPythonJson } from '../python.js';
import { errorRow, type BenchRow, type Suite } from '../suite.js';
import { timeIt } from '../timing.js';

const NAME = 'bert_base_layer_fwd_bwd';

export const bertLayerSuite: Suite = {
  name: 'bert-layer',
  description: 'BERT-base encoder layer forward+backward, batch 8x128, ms per step, vs PyTorch (2 threads)',
  // The stock cpu kernels need minutes per step (~45 GFLOP at ~0.5 GFLOP/s): only when asked for.
  defaultBackends: ['blas'],
  async run(ctx) {
    const c = BERT_BASE_LAYER;
    const rows: BenchRow[] = [];
    const measured: { backend: string; ms: number; reps: number }[] = [];
    for (const backend of ctx.backends) {
      try {
        await useBackend(backend);
        const slow = isSlowBackend(backend);
        const reps = slow ? 1 : ctx.reps;
        const vars = initBertLayer(c);
        const x = tf.randomNormal([c.batch, c.seqLen, c.hidden], 0, 1, 'float32', 7);
        const mask = tf.zeros([c.batch, 1, 1, c.seqLen]);
        const dy = tf.randomNormal([c.batch, c.seqLen, c.hidden], 0, 1, 'float32', 8);
        const before = tf.memory().numTensors;
        const { seconds } = await timeIt(async () => void (await bertLayerStep(c, vars, x, mask, dy)), reps, slow ? 0 : 1);
        if (tf.memory().numTensors !== before) throw new Error(`tensor leak: ${tf.memory().numTensors - before} tensors per run`);
        tf.dispose([x, mask, dy, ...vars.values()]);
        measured.push({ backend, ms: seconds * 1000, reps });
        ctx.log(`${NAME} ${backend}: ${(seconds * 1000).toFixed(0)} ms/step`);
      } catch (err) {
        rows.push(errorRow(NAME, backend, err));
      }
    }
    let ref: { ms: number; label: string } | null = null;
    let refError: string | undefined;
    try {
      const py = findTorchPython();
      if (!py) throw new Error('python3 with torch not found (apt-get install -y python3-torch)');
      const r = runPythonJson<{ seconds: number; threads: number; torch: string }>('bert_layer.py', [
        '--batch', String(c.batch), '--seq', String(c.seqLen), '--hidden', String(c.hidden), '--heads', String(c.heads),
        '--ffn', String(c.ffn), '--reps', String(ctx.reps), '--threads', '2',
      ]);
      ref = { ms: r.seconds * 1000, label: `pytorch-${r.torch} (${r.threads} threads)` };
      ctx.log(`${NAME} reference: ${ref.ms.toFixed(0)} ms/step (${ref.label})`);
    } catch (err) {
      refError = err instanceof Error ? err.message : String(err);
    }
    for (const m of measured) {
      rows.push({
        name: NAME, backend: m.backend, value: m.ms, unit: 'ms/step',
        reference: ref?.label ?? null, reference_value: ref?.ms ?? null,
        ratio: ref ? m.ms / ref.ms : null, ratio_kind: 'time',
        notes: `median of ${m.reps} reps; ratio = tfjs time / PyTorch time (target <= 1.5)` + (refError ? `; reference failed: ${refError}` : ''),
      });
    }
    return rows;
  },
};
