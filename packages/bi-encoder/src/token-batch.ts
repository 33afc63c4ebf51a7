/** Helpers turning @fidkd/core TokenBatch rows into tfjs tensors, trimming all-padding tail columns. */
import * as tf from '@tensorflow/tfjs';
import type { TokenBatch } from '@fidkd/core';

/** Checks a TokenBatch's array sizes; `what` names it in errors. */
export function checkTokenBatch(b: TokenBatch, what: string): void {
  if (!Number.isInteger(b.count) || b.count < 0 || !Number.isInteger(b.length) || b.length <= 0) {
    throw new Error(`${what}: invalid batch shape [${b.count}, ${b.length}]`);
  }
  if (b.ids.length !== b.count * b.length || b.mask.length !== b.count * b.length) {
    throw new Error(`${what}: ids (${b.ids.length}) and mask (${b.mask.length}) must both hold count*length = ${b.count * b.length} values`);
  }
}

/** 1 + the last column holding a real token in rows [start, end) (at least 1). */
export function usedLength(b: TokenBatch, start: number, end: number): number {
  let used = 1;
  for (let r = start; r < end; r++) {
    const base = r * b.length;
    for (let c = b.length - 1; c >= used; c--) {
      if (b.mask[base + c] !== 0) {
        used = c + 1;
        break;
      }
    }
  }
  return used;
}

/**
 * Rows [start, end) as row-major int32 arrays [rows, width]; `width` < b.length drops trailing columns (only valid
 * when they are padding in every row and the mask is applied: masked positions change nothing else). Views into
 * the batch when nothing is dropped.
 */
export function batchRows(b: TokenBatch, start: number, end: number, width = b.length): { ids: Int32Array; mask: Int32Array } {
  const rows = end - start;
  if (width === b.length) {
    return { ids: b.ids.subarray(start * b.length, end * b.length), mask: b.mask.subarray(start * b.length, end * b.length) };
  }
  const ids = new Int32Array(rows * width);
  const mask = new Int32Array(rows * width);
  for (let r = 0; r < rows; r++) {
    const src = (start + r) * b.length;
    ids.set(b.ids.subarray(src, src + width), r * width);
    mask.set(b.mask.subarray(src, src + width), r * width);
  }
  return { ids, mask };
}

/** {@link batchRows} as int32 tensors [rows, width]. */
export function batchTensors(b: TokenBatch, start: number, end: number, width = b.length): { ids: tf.Tensor2D; mask: tf.Tensor2D } {
  const { ids, mask } = batchRows(b, start, end, width);
  const rows = end - start;
  return { ids: tf.tensor2d(ids, [rows, width], 'int32'), mask: tf.tensor2d(mask, [rows, width], 'int32') };
}
