import * as tf from '@tensorflow/tfjs';
import { BackendUnavailableError, initBackend } from '../index.js';

afterAll(async () => {
  await tf.setBackend('cpu');
});

test('explicit cpu without BLAS takes the stock kernels', async () => {
  const r = await initBackend('cpu', { blas: false });
  expect(r).toEqual({ backend: 'cpu', accelerated: null, reason: 'cpu requested', skipped: [] });
  expect(tf.getBackend()).toBe('cpu');
});

test('explicit tensorflow / tensorflow-gpu, not installed here, say what to install', async () => {
  await expect(initBackend('tensorflow')).rejects.toThrow(BackendUnavailableError);
  await expect(initBackend('tensorflow')).rejects.toThrow(/npm install @tensorflow\/tfjs-node@/);
  await expect(initBackend('tensorflow-gpu')).rejects.toThrow(/npm install @tensorflow\/tfjs-node-gpu@.*CUDA/);
  await expect(initBackend('nope' as never)).rejects.toThrow(/unknown backend/);
});

test('auto skips the missing native backends and reports why', async () => {
  const lines: string[] = [];
  const r = await initBackend('auto', { log: (l) => lines.push(l) });
  // webgpu first: here only Mesa's software adapter (or none), which auto never takes
  expect(r.skipped.map((s) => s.name).slice(0, 3)).toEqual(['webgpu', 'tensorflow-gpu', 'tensorflow']);
  expect(r.skipped[0]!.reason).toMatch(/only a software adapter|no WebGPU adapter/);
  expect(r.skipped[1]!.reason).toMatch(/tfjs-node-gpu is not installed.*403 since 2026-08, tensorflow\/tfjs#8742/);
  expect(r.skipped[2]!.reason).toMatch(/tfjs-node is not installed/);
  expect(tf.getBackend()).toBe(r.backend);
  if (r.accelerated === 'openblas') {
    expect(r.backend).toBe('cpu'); // @fidkd/tfjs-blas and its addon are present
  } else {
    // without the BLAS addon the wasm backend wins (30× the stock cpu matmul here)
    expect(r.skipped.map((s) => s.name)).toContain('cpu+openblas');
    expect(r).toMatchObject({ backend: 'wasm', accelerated: 'wasm-simd' });
    expect(lines).toEqual([]); // the notice is only for the plain cpu fallback
  }
});

test('auto without BLAS takes wasm (installed at the repository root) and prints no notice', async () => {
  const lines: string[] = [];
  const r = await initBackend('auto', { blas: false, log: (l) => lines.push(l) });
  expect(r).toMatchObject({ backend: 'wasm', accelerated: 'wasm-simd' });
  expect(r.skipped.map((s) => s.name)).toEqual(['webgpu', 'tensorflow-gpu', 'tensorflow']);
  expect(tf.getBackend()).toBe('wasm');
  expect(lines).toEqual([]);
  await tf.setBackend('cpu');
});

test('wasm trains: gather gradient and einsum are bridged to the cpu kernels, same numbers', async () => {
  const run = () =>
    tf.tidy(() => {
      const emb = tf.tensor2d([[1, 2], [3, 4], [5, 6]]);
      const ids = tf.tensor1d([2, 0, 2], 'int32');
      const g = tf.grad((e: tf.Tensor) => tf.gather(e, ids).mul(tf.tensor2d([[1, 2], [3, 4], [5, 6]])).sum())(emb);
      const e = tf.einsum('ij,jk->ik', emb, tf.tensor2d([[1, 0, 2], [0, 1, 3]]));
      return [Array.from(g.dataSync()), Array.from(e.dataSync())];
    });
  await initBackend('cpu', { blas: false });
  const onCpu = run();
  const before = tf.memory().numTensors;
  const r = await initBackend('wasm');
  expect(r.backend).toBe('wasm');
  expect(r.reason).toMatch(/UnsortedSegmentSum/);
  const onWasm = run();
  expect(onWasm).toEqual(onCpu);
  expect(onCpu[0]).toEqual([3, 4, 0, 0, 6, 8]); // rows 2 and 0 gathered: d/d emb[2] = [1,2]+[5,6], d/d emb[0] = [3,4]
  await tf.setBackend('cpu');
  expect(tf.memory().numTensors).toBe(before);
});
