// Child process of training/resume.test.ts: trains a tiny linear model with the core training utilities.
//   node resume-child.mjs <core index.js> straight <N> <out.json>
//   node resume-child.mjs <core index.js> part1 <k> <N> <checkpoint dir>
//   node resume-child.mjs <core index.js> part2 <N> <checkpoint dir> <out.json> [fresh-optimizer]
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';

const [coreIndex, mode, ...args] = process.argv.slice(2);
const core = await import(pathToFileURL(coreIndex).href);
await tf.setBackend('cpu');

const BASE_LR = 0.05;
const MICRO_BATCHES = 2;

// deterministic data: a small LCG, one batch of 4 rows per (step, micro-batch)
function batch(step, micro) {
  let s = (step * 7919 + micro * 104729 + 17) >>> 0;
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
  const x = Array.from({ length: 12 }, next);
  const y = Array.from({ length: 8 }, next);
  return [tf.tensor2d(x, [4, 3]), tf.tensor2d(y, [4, 2])];
}

function createModel() {
  return new Map([
    ['linear.weight', tf.variable(tf.tensor2d([0.3, -0.2, 0.1, 0.5, -0.4, 0.25], [3, 2]), true, 'linear.weight')],
    ['linear.bias', tf.variable(tf.zeros([2]), true, 'linear.bias')],
  ]);
}

function train(vars, opt, from, to, totalSteps) {
  const schedule = core.linearWarmupDecay({ warmupSteps: 2, totalSteps });
  const acc = new core.GradientAccumulator();
  const varList = [...vars.values()];
  for (let step = from; step < to; step++) {
    for (let micro = 0; micro < MICRO_BATCHES; micro++) {
      const [x, y] = batch(step, micro);
      const { value, grads } = tf.variableGrads(
        () => tf.losses.meanSquaredError(y, x.matMul(vars.get('linear.weight')).add(vars.get('linear.bias'))),
        varList,
      );
      acc.add(new Map(Object.entries(grads)));
      tf.dispose([x, y, value, grads]);
    }
    const mean = acc.mean();
    acc.reset();
    const clipped = core.clipGradNorm(mean, 0.5);
    opt.applyGradients(vars, clipped.grads, BASE_LR * schedule(step + 1)); // +1: skip FiD's lr-0 first update
    tf.dispose([...mean.values(), ...clipped.grads.values()]);
  }
}

function dumpWeights(vars, file) {
  const out = {};
  for (const [name, v] of vars) out[name] = Array.from(new Uint32Array(Float32Array.from(v.dataSync()).buffer));
  writeFileSync(file, JSON.stringify(out));
}

const newOptimizer = () => new core.AdamW({ lr: BASE_LR, weightDecay: 0.1 });

if (mode === 'straight') {
  const [n, out] = args;
  const vars = createModel();
  train(vars, newOptimizer(), 0, Number(n), Number(n));
  dumpWeights(vars, out);
} else if (mode === 'part1') {
  const [k, n, dir] = args;
  const vars = createModel();
  const opt = newOptimizer();
  train(vars, opt, 0, Number(k), Number(n));
  core.saveTrainingCheckpoint(dir, {
    weights: core.variablesToStateDict(vars),
    config: { model_type: 'tiny-linear', d_in: 3, d_out: 2 },
    optimizer: opt,
    step: Number(k),
    extra: { totalSteps: Number(n) },
  });
} else if (mode === 'part2') {
  const [n, dir, out, fresh] = args;
  const ckpt = core.loadTrainingCheckpoint(dir);
  const vars = createModel();
  core.assignStateDict(vars, ckpt.weights);
  const opt = new core.AdamW(ckpt.optimizerConfig);
  if (fresh !== 'fresh-optimizer') opt.setState(ckpt.optimizerState, ckpt.optimizerStep);
  train(vars, opt, ckpt.step, Number(n), ckpt.extra.totalSteps);
  dumpWeights(vars, out);
} else {
  throw new Error(`unknown mode ${mode}`);
}
