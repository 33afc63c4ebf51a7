import * as tf from '@tensorflow/tfjs';

const stop = tf.customGrad(((x: tf.Tensor) => ({
  value: x.clone(),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
})) as unknown as Parameters<typeof tf.customGrad>[0]);

/**
 * Identity in the forward pass, zero gradient in the backward pass: the gold scores G are a fixed teacher
 * signal and must never receive gradient, even when the caller differentiates with respect to them.
 */
export function stopGradient<T extends tf.Tensor>(x: T): T {
  return stop(x) as T;
}
