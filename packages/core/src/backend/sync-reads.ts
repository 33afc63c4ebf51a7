import * as tf from '@tensorflow/tfjs';

/**
 * Whether the active backend keeps tensors in host memory (tfjs `cpu`, `wasm`, tfjs-node's `tensorflow`): reading
 * one back is a copy, not a round trip to a GPU. Training steps keep numbers such as the gradient norm on the
 * device only where it is not.
 */
export function hostBackend(): boolean {
  const name = tf.getBackend();
  return name === 'cpu' || name === 'wasm' || name === 'tensorflow';
}

/**
 * Whether `dataSync()` works on the active backend. It does not on tfjs's webgpu backend in Node, whose
 * synchronous read goes through a browser OffscreenCanvas ("OffscreenCanvas is not defined").
 */
export function canReadSync(): boolean {
  return !(tf.getBackend() === 'webgpu' && typeof (globalThis as { OffscreenCanvas?: unknown }).OffscreenCanvas === 'undefined');
}

/** Throws a clear error (naming the asynchronous method to call instead) where {@link canReadSync} is false. */
export function assertSyncReads(method: string, instead: string): void {
  if (!canReadSync()) {
    throw new Error(`${method} reads tensors synchronously, which the ${tf.getBackend()} backend cannot do in Node: use ${instead}`);
  }
}
