import * as tf from '@tensorflow/tfjs';
import { Renderer } from './ui/render.js';
import { embedBackendSet, selectBackend } from './run-context.js';
import { resolveDemoSettings } from './commands/demo.js';

const quiet = (): Renderer => new Renderer({ bars: false, quiet: true });

test("--backend cpu-stock runs tfjs's own cpu kernels (the speed baseline); cpu takes the native ones when built", async () => {
  expect((await selectBackend('cpu-stock', quiet())).taken).toBe('cpu');
  expect(tf.getBackend()).toBe('cpu');
  const blas = tf.getKernel('BatchMatMul', 'cpu');
  // the native kernel set (when the addon is built, as `npm test` does) is registered by plain `cpu` only
  expect((await selectBackend('cpu', quiet())).taken).toBe('cpu+openblas');
  expect(tf.getKernel('BatchMatMul', 'cpu')).not.toBe(blas);
  expect((await selectBackend('cpu-stock', quiet())).taken).toBe('cpu');
  expect(tf.getKernel('BatchMatMul', 'cpu')).toBe(blas);
});

test('an unknown backend names the valid ones', async () => {
  await expect(selectBackend('gpu', quiet())).rejects.toThrow(/cpu-stock/);
});

test('--embed-backend stands for embed.backend (pipeline.embed.backend in the demo); an unknown engine names the valid ones', () => {
  expect(embedBackendSet(undefined, 'embed.backend')).toEqual([]);
  expect(embedBackendSet('ort', 'embed.backend')).toEqual(['embed.backend=ort']);
  expect(() => embedBackendSet('onnx', 'embed.backend')).toThrow(/--embed-backend onnx: expected one of auto, ort, tfjs/);
  const s = resolveDemoSettings({ set: embedBackendSet('tfjs', 'pipeline.embed.backend'), baseline: true });
  expect(s.problems).toEqual([]);
  expect(s.config.pipeline.embed.backend).toBe('tfjs');
});
