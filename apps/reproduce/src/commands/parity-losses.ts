/**
 * `fidkd parity` for the losses oracle (fixtures/oracle/losses, no checkpoint): every case's softmax(G/Tg),
 * log_softmax(S/Ts) and each distillation variant's value and gradient w.r.t. S, computed by @fidkd/losses on the
 * active backend and read back asynchronously (so it runs on webgpu too), in the fixture's expected.json layout.
 */
import * as tf from '@tensorflow/tfjs';
import { fixtureData, fixtureTensor, isFixtureTensor, type FixtureTensor } from '@fidkd/core';
import { DISTILLATION_VARIANTS, distillationLoss } from '@fidkd/losses';
import { UserError } from '../ui/errors.js';

/** Whether a parsed inputs.json is the losses fixture's (a `cases` list). */
export function isLossesInputs(inputs: Record<string, unknown>): boolean {
  return Array.isArray(inputs.cases);
}

function matrix(c: Record<string, unknown>, key: string, where: string): tf.Tensor2D {
  const t = c[key];
  if (!isFixtureTensor(t) || t.shape.length !== 2) throw new UserError(`${where}: "${key}" must be a [question, passage] {dims, shape, dtype, data} tensor`);
  return tf.tensor2d(fixtureData(t, key), t.shape as [number, number], 'float32');
}

function positive(c: Record<string, unknown>, key: string, where: string, fallback: number): number {
  const v = c[key] ?? fallback;
  if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) throw new UserError(`${where}: "${key}" must be a positive number (got ${JSON.stringify(c[key])})`);
  return v;
}

/** The expected.json of the losses fixture for `inputs` (its `cases`), `source` naming the file in errors. */
export async function runLossesParity(inputs: Record<string, unknown>, source: string): Promise<{ cases: Record<string, unknown>[] }> {
  const cases: Record<string, unknown>[] = [];
  for (const [i, raw] of (inputs.cases as unknown[]).entries()) {
    const where = `${source}: cases[${i}]`;
    if (raw === null || typeof raw !== 'object') throw new UserError(`${where}: expected an object`);
    const c = raw as Record<string, unknown>;
    const gamma = positive(c, 'gamma', where, 1);
    const tg = positive(c, 'temperature_gold', where, 1);
    const ts = positive(c, 'temperature_score', where, 1);
    const s = matrix(c, 'scores', where);
    const g = matrix(c, 'gold_scores', where);
    if (s.shape[0] !== g.shape[0] || s.shape[1] !== g.shape[1]) throw new UserError(`${where}: scores [${s.shape}] and gold_scores [${g.shape}] differ in shape`);
    const tensors = tf.tidy(() => [
      tf.softmax(tf.div(g, tg)),
      tf.logSoftmax(tf.div(s, ts)),
      ...DISTILLATION_VARIANTS.flatMap((variant) => {
        const { value, grad } = tf.valueAndGrad((x: tf.Tensor) => distillationLoss(x as tf.Tensor2D, g, { variant, gamma, temperatureGold: tg, temperatureScore: ts }))(s);
        return [value, grad];
      }),
    ]);
    tf.dispose([s, g]);
    let data: Float32Array[];
    try {
      data = (await Promise.all(tensors.map((t) => t.data()))) as Float32Array[];
    } finally {
      tf.dispose(tensors);
    }
    const shape = tensors[0]!.shape;
    const dims = ['question', 'passage'];
    const mat = (d: Float32Array): FixtureTensor => fixtureTensor(d, shape, dims, 'float64');
    const out: Record<string, unknown> = { name: c.name, softmax_gold: mat(data[0]!), log_softmax_scores: mat(data[1]!) };
    DISTILLATION_VARIANTS.forEach((variant, v) => {
      out[variant] = { value: data[2 + 2 * v]![0]!, grad_wrt_scores: mat(data[3 + 2 * v]!) };
    });
    cases.push(out);
  }
  return { cases };
}
