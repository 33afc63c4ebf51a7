/**
 * Reading tensors back, written once for both kinds of backend. A computation that needs values on the CPU is a
 * generator ({@link ReadTask}) that yields the tensors it wants read and resumes with their values; the same task
 * runs synchronously ({@link runReadTaskSync}: `dataSync`, cpu / wasm / tensorflow backends) or asynchronously
 * ({@link runReadTask}: `data()`, every backend — tfjs's webgpu backend cannot read synchronously in Node). So a
 * library offers `x()` and `xAsync()` over one implementation, and a training step yields once, at its end.
 */
import * as tf from '@tensorflow/tfjs';
import { assertSyncReads } from './sync-reads.js';

/** Yields tensors to read (it keeps ownership of them), receives their values in the same order, returns T. */
export type ReadTask<T> = Generator<tf.Tensor[], T, tf.TypedArray[]>;

/** Runs a {@link ReadTask} with `data()` reads, all tensors of one yield read at once. */
export async function runReadTask<T>(task: ReadTask<T>): Promise<T> {
  let step = task.next();
  while (!step.done) {
    let values: tf.TypedArray[];
    try {
      values = (await Promise.all(step.value.map((t) => t.data()))) as tf.TypedArray[];
    } catch (err) {
      task.return(undefined as never); // the task's finally blocks free what it holds
      throw err;
    }
    step = task.next(values);
  }
  return step.value;
}

/**
 * Runs a {@link ReadTask} with `dataSync()` reads; where the backend cannot read synchronously (webgpu in Node)
 * it throws before starting, naming `method` and what to call `instead`.
 */
export function runReadTaskSync<T>(task: ReadTask<T>, method: string, instead: string): T {
  try {
    assertSyncReads(method, instead);
  } catch (err) {
    task.return(undefined as never);
    throw err;
  }
  let step = task.next();
  while (!step.done) step = task.next(step.value.map((t) => t.dataSync() as tf.TypedArray));
  return step.value;
}

/**
 * A number a training step reports (loss, gradient norm): a plain number where it was computed on the CPU, or a
 * scalar tensor still on the device, so that a step needs no read-back before its end.
 */
export type DeviceNumber = number | tf.Scalar;

function isTensor(v: DeviceNumber | undefined): v is tf.Scalar {
  return typeof v === 'object' && v !== null;
}

/**
 * A {@link ReadTask} turning `values` into numbers (undefined stays undefined): every tensor among them is read in
 * one transfer (stacked) and disposed.
 */
export function* readNumbersTask(values: readonly (DeviceNumber | undefined)[]): ReadTask<(number | undefined)[]> {
  const tensors = values.filter(isTensor);
  try {
    if (tensors.length === 0) return [...values] as (number | undefined)[];
    const stacked = tf.tidy(() => tf.stack(tensors.map((t) => t.asType('float32'))));
    let data: tf.TypedArray;
    try {
      [data] = (yield [stacked]) as [tf.TypedArray];
    } finally {
      stacked.dispose();
    }
    let i = 0;
    return values.map((v) => (isTensor(v) ? data[i++]! : v));
  } finally {
    tf.dispose(tensors);
  }
}

/** `values` as numbers, the tensors among them read in one transfer and disposed (every backend). */
export function readNumbers(values: readonly (DeviceNumber | undefined)[]): Promise<(number | undefined)[]> {
  return runReadTask(readNumbersTask(values));
}
