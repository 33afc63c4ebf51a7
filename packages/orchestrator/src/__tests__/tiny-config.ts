import type { PipelineConfig } from '../config.js';
import type { SyntheticData, SyntheticPrepareConfig } from '../synthetic/prepare.js';

/** A world and models small enough for tests (seconds per stage). */
export const TINY_PREPARE: SyntheticPrepareConfig = {
  seed: 11,
  world: { numEntities: 24, numTrain: 24, numDev: 8, numTest: 8 },
  tokenizer: { vocab_size: 400 },
  bm25: { k1: 0.9, b: 0.4, n_passages: 6 },
};

export function tinyPipeline(d: SyntheticData): PipelineConfig {
  const optim = { weight_decay: 0.01, warmup_steps: 1, total_steps: 6, scheduler: 'linear' as const, batch_size: 2, accumulation_steps: 1, clip: 1, checkpoint_every: 2, lr: 1e-3 };
  return {
    name: 'tiny', seed: 5, iterations: 1,
    data: { passages: d.passages, train: d.train, dev: d.dev, test: d.test },
    tokenizer: { reader: d.tokenizer, retriever: d.tokenizer },
    reader: { ...optim, model: { d_model: 16, d_kv: 8, num_heads: 2, d_ff: 32, num_layers: 1, num_decoder_layers: 1, dropout_rate: 0 }, n_context: 3, text_maxlength: 24, answer_maxlength: 6, continue_from_previous: false, eval_batch_size: 8 },
    score: { softmax: 'pre', positions: 'first', log_mass: false, batch_size: 8 },
    retriever: { ...optim, model: { bert: { hiddenSize: 16, numHiddenLayers: 1, numAttentionHeads: 2, intermediateSize: 32, maxPositionEmbeddings: 32, hiddenDropoutProb: 0, attentionProbsDropoutProb: 0 } }, question_maxlength: 12, passage_maxlength: 24, n_context: 3, loss: 'kl', continue_from_previous: true, in_batch_negatives: true },
    embed: { num_shards: 2, batch_size: 32 },
    index: { factory: 'Flat' },
    retrieve: { n_passages: 6, batch_size: 16 },
    evaluate: { k: [1, 5], splits: ['dev', 'test'], reader_em: true, max_em_questions: 0 },
    baseline: { has_answer: true },
  };
}
