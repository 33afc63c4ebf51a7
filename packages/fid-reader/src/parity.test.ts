import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isFixtureTensor, type FixtureTensor } from '@fidkd/core';
import { runReaderParity } from './parity.js';
import { FUSED_KERNEL_NAMES, isBlasAvailable, registerBlasKernels, unregisterBlasKernels } from '@fidkd/tfjs-blas';
import { setFusedCpuKernels, usesFusedAttention } from './kernels.js';

const fixtures = fileURLToPath(new URL('../../../fixtures/oracle/', import.meta.url));
const tied = `${fixtures}t5-relu-tied`;
const official = `${fixtures}t5-fid-official-names`;
const expected = JSON.parse(readFileSync(`${tied}/expected.json`, 'utf8')) as Record<string, unknown>;
const inputsPath = `${tied}/inputs.json`;

/** Max abs difference per field; exact equality for generated_ids and the integer tables. */
function compareAll(got: Record<string, unknown>): Record<string, number> {
  const errors: Record<string, number> = {};
  for (const [name, want] of Object.entries(expected)) {
    if (name === '_meta') continue;
    const have = got[name];
    expect({ name, present: have !== undefined }).toEqual({ name, present: true });
    if (typeof want === 'number') {
      expect(typeof have).toBe('number');
      errors[name] = Math.abs((have as number) - want);
      continue;
    }
    expect(isFixtureTensor(want)).toBe(true);
    const w = want as FixtureTensor;
    const h = have as FixtureTensor;
    expect({ name, shape: h.shape, dims: h.dims, dtype: h.dtype }).toEqual({ name, shape: w.shape, dims: w.dims, dtype: w.dtype });
    let max = 0;
    for (let i = 0; i < w.data.length; i++) max = Math.max(max, Math.abs(Number(h.data[i]) - Number(w.data[i])));
    if (w.dtype === 'int64') expect({ name, data: h.data.map(Number) }).toEqual({ name, data: w.data.map(Number) });
    errors[name] = max;
  }
  return errors;
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('runReaderParity against the HF / official FiD oracle', () => {
  test('t5-relu-tied: every field within 1e-4, generated_ids exactly', () => {
    const before = tf.memory().numTensors;
    const errors = compareAll(runReaderParity(tied, inputsPath));
    console.log('t5-relu-tied max abs errors', errors);
    for (const [name, e] of Object.entries(errors)) expect({ name, ok: e <= 1e-4 }).toEqual({ name, ok: true });
    expect(tf.memory().numTensors).toBe(before);
  });

  test('t5-fid-official-names (.bin, wrapped names, FiD-era config) with t5-relu-tied inputs', () => {
    const inputs = JSON.parse(readFileSync(inputsPath, 'utf8')) as Record<string, unknown>;
    const errors = compareAll(runReaderParity(official, inputs));
    console.log('t5-fid-official-names max abs errors', errors);
    for (const [name, e] of Object.entries(errors)) expect({ name, ok: e <= 1e-4 }).toEqual({ name, ok: true });
  });

  test('the plain tf-op path (other backends) matches too', () => {
    setFusedCpuKernels(false);
    try {
      const errors = compareAll(runReaderParity(tied, inputsPath));
      for (const [name, e] of Object.entries(errors)) expect({ name, ok: e <= 1e-4 }).toEqual({ name, ok: true });
    } finally {
      setFusedCpuKernels(true);
    }
  });

  test("with @fidkd/tfjs-blas's kernels registered (fused attention, native matmuls): every field within 1e-4", () => {
    if (!isBlasAvailable()) throw new Error('@fidkd/tfjs-blas native addon is not built: run `npm run setup` (needs libopenblas-dev)');
    registerBlasKernels();
    try {
      expect(usesFusedAttention()).toBe(true);
      expect(FUSED_KERNEL_NAMES.length).toBeGreaterThan(0);
      const errors = compareAll(runReaderParity(tied, inputsPath));
      for (const [name, e] of Object.entries(errors)) expect({ name, ok: e <= 1e-4 }).toEqual({ name, ok: true });
    } finally {
      unregisterBlasKernels();
    }
  });

  test('bad inputs give errors naming the field', () => {
    expect(() => runReaderParity(tied, { attention_mask: expected['encoder_attention_mask_flat'] })).toThrow(/input_ids/);
  });
});
