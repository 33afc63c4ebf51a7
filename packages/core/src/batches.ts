/**
 * Token batches shared by tokenization (which produces them) and the models (which consume them).
 * Plain typed arrays, row-major, so that they cross package boundaries without tfjs.
 */

/** A padded batch of `count` sequences of `length` tokens: ids and attention mask are [count, length]. */
export interface TokenBatch {
  ids: Int32Array;
  mask: Int32Array;
  count: number;
  length: number;
}

/**
 * A FiD reader batch: B questions × n_context passages × text_maxlength tokens, passage j of question b at
 * row b*n_context + j. `labels` [B, answerLength] holds target ids with -100 at ignored positions.
 */
export interface ReaderBatch {
  inputIds: Int32Array;
  attentionMask: Int32Array;
  batchSize: number;
  nContext: number;
  textMaxlength: number;
  labels?: Int32Array;
  answerLength?: number;
}
