/**
 * Retriever.embed_text as pure functions of the parameters: BERT, then FiD pooling (and projection). The
 * BiEncoder class calls them on its variables; the web page of a run (`fidkd export-web`) bundles this file to
 * embed questions in the browser with the same code.
 */
import * as tf from '@tensorflow/tfjs';
import type { TokenBatch } from '@fidkd/core';
import { bertForward, type DropoutSpec, type ParameterMap } from './bert.js';
import type { BiEncoderConfig, RetrieverFlags } from './config.js';
import { poolEmbeddings } from './pooling.js';
import { batchTensors, usedLength } from './token-batch.js';

/** Which side of the bi-encoder a text is on (selects apply_question_mask / apply_passage_mask). */
export type TextKind = 'question' | 'passage';

/**
 * [N, L] ids and mask → [N, d] text embeddings. `flags` may differ from the config's (parity runs every pooling
 * variant on the same weights); without the mask BERT gets none and the mean runs over every position.
 */
export function embedText(
  params: ParameterMap, config: BiEncoderConfig, ids: tf.Tensor2D, mask: tf.Tensor2D, kind: TextKind,
  flags: RetrieverFlags = config.retriever, dropout?: DropoutSpec,
): tf.Tensor2D {
  const applyMask = kind === 'question' ? flags.applyQuestionMask : flags.applyPassageMask;
  return tf.tidy(() => {
    const hidden = bertForward(params, config.bert, { ids, mask: applyMask ? mask : null }, dropout);
    return poolEmbeddings(params, hidden, applyMask ? mask : null, {
      projection: config.retriever.projection,
      extractCls: flags.extractCls,
      applyMask,
    });
  });
}

/** Rows [start, end) of a TokenBatch → [rows, d], trimming padding-only tail columns when the mask is applied. */
export function embedBatchRows(
  params: ParameterMap, config: BiEncoderConfig, batch: TokenBatch, kind: TextKind, start = 0, end = batch.count, dropout?: DropoutSpec,
): tf.Tensor2D {
  const applyMask = kind === 'question' ? config.retriever.applyQuestionMask : config.retriever.applyPassageMask;
  // Without the mask padding positions take part in attention and the mean: the full width is then semantic.
  const width = applyMask ? usedLength(batch, start, end) : batch.length;
  const { ids, mask } = batchTensors(batch, start, end, width);
  try {
    return embedText(params, config, ids, mask, kind, config.retriever, dropout);
  } finally {
    tf.dispose([ids, mask]);
  }
}
