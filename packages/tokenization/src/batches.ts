/**
 * The typed-array batches the tokenizer produces: the layouts of @fidkd/core's `TokenBatch` and `ReaderBatch`,
 * which the models take. Declared here as well so that this package needs neither @fidkd/core nor, through its
 * peer, tfjs; batches.test.ts makes type-checking fail the day the two declarations differ.
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
