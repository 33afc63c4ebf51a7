import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, test } from '@jest/globals';
import {
  DISTILLATION_VARIANTS,
  FAMILY_DEFAULTS,
  answerSupervisedLoss,
  distillationLoss,
  type DistillationVariant,
} from './index.js';

interface FT { shape: number[]; data: number[] }
const fixtures = fileURLToPath(new URL('../../../fixtures/oracle/', import.meta.url));
const readJson = (rel: string): any => JSON.parse(readFileSync(fixtures + rel, 'utf8'));

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(Number(a[i]) - Number(b[i])));
  return m;
}

function valueAndGrad(s: FT, g: FT, opts: Parameters<typeof distillationLoss>[2]): { value: number; grad: Float32Array } {
  const S = tf.tensor2d(s.data, s.shape as [number, number]);
  const G = tf.tensor2d(g.data, g.shape as [number, number]);
  const { value, grad } = tf.valueAndGrad((x: tf.Tensor) => distillationLoss(x as tf.Tensor2D, G, opts))(S);
  const out = { value: value.dataSync()[0]!, grad: grad.dataSync() as Float32Array };
  tf.dispose([S, G, value, grad]);
  return out;
}

/** Plain float64 reference of every variant (straight loops from the README formulas). */
function reference(S: number[][], G: number[][], variant: DistillationVariant, gamma: number, tg: number, ts: number): number {
  const Q = S.length;
  const P = S[0]!.length;
  const logSoftmax = (row: number[], t: number) => {
    const x = row.map((v) => v / t);
    const m = Math.max(...x);
    const lse = m + Math.log(x.reduce((a, v) => a + Math.exp(v - m), 0));
    return x.map((v) => v - lse);
  };
  let total = 0;
  let count = 0;
  for (let q = 0; q < Q; q++) {
    const s = S[q]!;
    const g = G[q]!;
    if (variant.startsWith('kl')) {
      const lg = logSoftmax(g, tg);
      const ls = logSoftmax(s, ts);
      for (let p = 0; p < P; p++) total += Math.exp(lg[p]!) * (lg[p]! - ls[p]!);
    } else if (variant.startsWith('mse')) {
      for (let p = 0; p < P; p++) total += (s[p]! - g[p]!) ** 2;
    } else {
      for (let i = 0; i < P; i++) {
        for (let j = 0; j < P; j++) {
          const h = Math.max(0, gamma - Math.sign(g[i]! - g[j]!) * (s[i]! - s[j]!));
          if (variant.startsWith('margin_all')) total += h;
          else if (variant === 'margin_distinct_pairs_mean' && i !== j) total += h;
          else if (variant.startsWith('margin_ordered') && g[i]! > g[j]!) {
            total += h;
            count++;
          }
        }
      }
    }
  }
  switch (variant) {
    case 'kl_repo': case 'mse_mean': return total / (Q * P);
    case 'kl_batchmean': return total / Q;
    case 'margin_all_pairs_mean': return total / (Q * P * P);
    case 'margin_distinct_pairs_mean': return P > 1 ? total / (Q * P * (P - 1)) : 0;
    case 'margin_ordered_pos_pairs_mean': return count ? total / count : 0;
    default: return total;
  }
}

function toRows(flat: ArrayLike<number>, q: number, p: number): number[][] {
  return Array.from({ length: q }, (_, i) => Array.from({ length: p }, (_, j) => Number(flat[i * p + j])));
}

/** Central finite differences of the float64 reference. */
function referenceGrad(S: number[][], G: number[][], v: DistillationVariant, gamma: number, tg: number, ts: number): number[] {
  const h = 1e-6;
  const out: number[] = [];
  for (let i = 0; i < S.length; i++) {
    for (let j = 0; j < S[0]!.length; j++) {
      const plus = S.map((r) => [...r]);
      const minus = S.map((r) => [...r]);
      plus[i]![j]! += h;
      minus[i]![j]! -= h;
      out.push((reference(plus, G, v, gamma, tg, ts) - reference(minus, G, v, gamma, tg, ts)) / (2 * h));
    }
  }
  return out;
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('distillationLoss against fixtures/oracle/losses', () => {
  const inputs = readJson('losses/inputs.json');
  const expected = readJson('losses/expected.json');
  test('the fixture covers every variant we implement and vice versa', () => {
    const keys = Object.keys(expected.cases[0]).filter((k) => !['name', 'softmax_gold', 'log_softmax_scores'].includes(k));
    expect([...keys].sort()).toEqual([...DISTILLATION_VARIANTS].sort());
  });
  for (const [ci, c] of (inputs.cases as any[]).entries()) {
    for (const variant of DISTILLATION_VARIANTS) {
      test(`${c.name} / ${variant}: value and d/dS within 1e-5`, () => {
        const exp = expected.cases[ci];
        expect(exp.name).toBe(c.name);
        const { value, grad } = valueAndGrad(c.scores, c.gold_scores, {
          variant, gamma: c.gamma, temperatureGold: c.temperature_gold, temperatureScore: c.temperature_score,
        });
        expect(Math.abs(value - exp[variant].value)).toBeLessThan(1e-5);
        expect(maxAbsDiff(grad, exp[variant].grad_wrt_scores.data)).toBeLessThan(1e-5);
      });
    }
  }
});

describe.each(['bert-tiny', 'bert-tiny-prefixed'])('distillationLoss against the losses block of %s', (fixture) => {
  const inputs = readJson(`${fixture}/inputs.json`);
  const expected = readJson(`${fixture}/expected.json`);
  const S: FT = expected[`retriever_${inputs.loss_scores_variant}_scores`];
  for (const variant of Object.keys(expected.losses)) {
    test(variant, () => {
      const { value, grad } = valueAndGrad(S, inputs.gold_scores, { variant: variant as DistillationVariant, gamma: inputs.margin_gamma });
      expect(Math.abs(value - expected.losses[variant].value)).toBeLessThan(1e-5);
      expect(maxAbsDiff(grad, expected.losses[variant].grad_wrt_scores.data)).toBeLessThan(1e-5);
    });
  }
});

describe('distillationLoss: own cases against a float64 reference', () => {
  // Seeded LCG so the cases are fixed.
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
  const cases: Array<{ name: string; S: number[][]; G: number[][]; gamma: number; tg: number; ts: number }> = [];
  const randMat = (q: number, p: number, scale = 2) => toRows(Array.from({ length: q * p }, () => rand() * scale), q, p);
  cases.push({ name: 'temperatures 0.7 / 3', S: randMat(3, 4), G: randMat(3, 4, 5), gamma: 0.3, tg: 0.7, ts: 3 });
  // Many gold ties (integer gold), S kept off the hinge kinks by the random offsets.
  cases.push({ name: 'gold ties', S: randMat(2, 6), G: [[1, 1, 0, 2, 2, 2], [0, 0, 0, 0, 0, 0]], gamma: 0.5, tg: 1, ts: 1 });
  cases.push({ name: 'single passage', S: randMat(3, 1), G: randMat(3, 1), gamma: 1, tg: 1, ts: 1 });
  cases.push({ name: 'large scores (softmax stability)', S: randMat(2, 5, 80), G: randMat(2, 5, 200), gamma: 2, tg: 1.5, ts: 0.5 });
  for (const c of cases) {
    for (const variant of DISTILLATION_VARIANTS) {
      test(`${c.name} / ${variant}`, () => {
        const q = c.S.length;
        const p = c.S[0]!.length;
        const { value, grad } = valueAndGrad(
          { shape: [q, p], data: c.S.flat() }, { shape: [q, p], data: c.G.flat() },
          { variant, gamma: c.gamma, temperatureGold: c.tg, temperatureScore: c.ts },
        );
        const ref = reference(c.S, c.G, variant, c.gamma, c.tg, c.ts);
        expect(Number.isFinite(value)).toBe(true);
        expect(Math.abs(value - ref)).toBeLessThan(1e-5 * Math.max(1, Math.abs(ref)));
        const rg = referenceGrad(c.S, c.G, variant, c.gamma, c.tg, c.ts);
        expect(maxAbsDiff(grad, rg)).toBeLessThan(2e-4 * Math.max(1, ...rg.map(Math.abs)));
      });
    }
  }

  test('all-tied gold: margin_ordered_pos_pairs_mean is 0 with zero gradient, not NaN', () => {
    const { value, grad } = valueAndGrad({ shape: [1, 3], data: [0.1, 0.5, -0.2] }, { shape: [1, 3], data: [2, 2, 2] }, { variant: 'margin_ordered_pos_pairs_mean' });
    expect(value).toBe(0);
    expect(Array.from(grad)).toEqual([0, 0, 0]);
  });
});

describe('distillationLoss: options and errors', () => {
  test('families map to their documented variants', () => {
    const S = tf.tensor2d([[0.3, -1, 2], [0.1, 0.2, 0.3]]);
    const G = tf.tensor2d([[1, 0, -1], [2, 2, 0]]);
    for (const [fam, v] of Object.entries(FAMILY_DEFAULTS)) {
      const a = distillationLoss(S, G, { variant: fam as 'kl' });
      const b = distillationLoss(S, G, { variant: v });
      expect(a.dataSync()[0]).toBe(b.dataSync()[0]);
      tf.dispose([a, b]);
    }
    const d = distillationLoss(S, G);
    const r = distillationLoss(S, G, { variant: 'kl_repo' });
    expect(d.dataSync()[0]).toBe(r.dataSync()[0]);
    tf.dispose([S, G, d, r]);
  });

  test('gold scores never receive gradient', () => {
    const S = tf.tensor2d([[0.3, -1, 2]]);
    const G = tf.tensor2d([[1, 0, -1]]);
    for (const variant of DISTILLATION_VARIANTS) {
      const [, gG] = tf.grads((s: tf.Tensor, g: tf.Tensor) => distillationLoss(s as tf.Tensor2D, g as tf.Tensor2D, { variant }))([S, G]);
      expect(Array.from(gG!.dataSync())).toEqual([0, 0, 0]);
      tf.dispose(gG);
    }
    tf.dispose([S, G]);
  });

  test('no tensor leaks', () => {
    const S = tf.tensor2d([[0.3, -1, 2]]);
    const G = tf.tensor2d([[1, 0, -1]]);
    const before = tf.memory().numTensors;
    for (const variant of DISTILLATION_VARIANTS) tf.dispose(distillationLoss(S, G, { variant }));
    tf.dispose(answerSupervisedLoss(S, [1, 0, 0]));
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([S, G]);
  });

  test('bad input: clear errors', () => {
    const S = tf.tensor2d([[0.3, -1, 2]]);
    const G = tf.tensor2d([[1, 0]]);
    expect(() => distillationLoss(S, G)).toThrow(/differs from gold shape/);
    expect(() => distillationLoss(S, S, { variant: 'kl_foo' as 'kl' })).toThrow(/unknown variant 'kl_foo'/);
    expect(() => distillationLoss(S, S, { temperatureGold: 0 })).toThrow(/temperatures must be > 0/);
    expect(() => answerSupervisedLoss(S, [1, 0])).toThrow(/expected 1\*3/);
    tf.dispose([S, G]);
  });
});

describe('answerSupervisedLoss', () => {
  test('= mean over questions with positives of -log sum_{pos} softmax(S); questions without positives skipped', () => {
    const s = [[1, 2, 3], [0.5, -0.5, 0], [4, 4, 4]];
    const has = [[1, 0, 1], [0, 0, 0], [0, 1, 0]];
    const sm = (row: number[]) => { const e = row.map(Math.exp); const z = e.reduce((a, b) => a + b); return e.map((v) => v / z); };
    const l0 = -Math.log(sm(s[0]!)[0]! + sm(s[0]!)[2]!);
    const l2 = -Math.log(sm(s[2]!)[1]!);
    const S = tf.tensor2d(s);
    const { value, grad } = tf.valueAndGrad((x: tf.Tensor) => answerSupervisedLoss(x as tf.Tensor2D, has.flat()))(S);
    expect(Math.abs(value.dataSync()[0]! - (l0 + l2) / 2)).toBeLessThan(1e-6);
    // d/dS of -log sum_pos softmax = softmax - softmax*1[pos]/sum_pos softmax, halved by the mean over 2 questions.
    const g = grad.arraySync() as number[][];
    expect(g[1]).toEqual([0, 0, 0]);
    const p0 = sm(s[0]!);
    const z0 = p0[0]! + p0[2]!;
    const exp0 = p0.map((v, i) => (v - (has[0]![i] ? v / z0 : 0)) / 2);
    expect(maxAbsDiff(g[0]!, exp0)).toBeLessThan(1e-6);
    // A tensor hasAnswer gives the same.
    const H = tf.tensor2d(has);
    const v2 = answerSupervisedLoss(S, H);
    expect(v2.dataSync()[0]).toBeCloseTo(value.dataSync()[0]!, 6);
    tf.dispose([S, H, value, grad, v2]);
  });

  test('no question with a positive: 0, finite', () => {
    const S = tf.tensor2d([[1, 2], [3, 4]]);
    const v = answerSupervisedLoss(S, [0, 0, false, false]);
    expect(v.dataSync()[0]).toBe(0);
    tf.dispose([S, v]);
  });
});
