import * as tf from '@tensorflow/tfjs';
import { registerFastKernels } from '../index.js';

test('UnsortedSegmentSum replacement: scatter-add, out-of-range ids dropped, gather gradient unchanged', async () => {
  await tf.setBackend('cpu');
  const x = tf.tensor2d([[1, 2], [3, 4], [5, 6], [7, 8]]);
  const ids = tf.tensor1d([2, 0, 2, 5], 'int32');
  const emb = tf.tensor2d([[1, 1], [2, 2], [3, 3]]);
  const gatherIds = tf.tensor2d([[0, 2], [2, 2]], [2, 2], 'int32');
  const gradOf = () => tf.tidy(() => Array.from(tf.grad((e: tf.Tensor) => tf.gather(e, gatherIds).mul(tf.range(1, 9).reshape([2, 2, 2])).sum())(emb).dataSync()));
  const slowGrad = gradOf(); // stock tfjs kernel
  const slowSum = tf.tidy(() => Array.from(tf.unsortedSegmentSum(x, ids, 3).dataSync()));
  registerFastKernels();
  expect(registerFastKernels()).toEqual([]); // idempotent
  const before = tf.memory().numTensors;
  const fast = tf.unsortedSegmentSum(x, ids, 3);
  expect(fast.shape).toEqual([3, 2]);
  expect(Array.from(fast.dataSync())).toEqual([3, 4, 0, 0, 6, 8]); // row 3 has id 5 >= 3: dropped
  expect(Array.from(fast.dataSync())).toEqual(slowSum);
  fast.dispose();
  expect(gradOf()).toEqual(slowGrad);
  // rows of emb: 0 <- [1,2]; 2 <- [3,4] + [5,6] + [7,8]
  expect(slowGrad).toEqual([1, 2, 0, 0, 15, 18]);
  expect(tf.memory().numTensors).toBe(before);
  tf.dispose([x, ids, emb, gatherIds]);
});
