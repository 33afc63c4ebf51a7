import type { PipelineConfig } from '@fidkd/orchestrator';

/**
 * Defaults of a `fidkd reproduce` config: the FiD repo's option defaults and README settings (reader: AdamW
 * lr 5e-5, linear schedule, 1000 warmup steps, 15000 steps, text_maxlength 250, n_context 100; retriever: lr 1e-4,
 * weight decay 0.01, 20000 steps, question/passage max length 40/200). A config file gives the data, the tokenizers
 * and the models (`init` or `model`) and may override anything. Nothing that fixes a model's shape or the length
 * of a schedule is filled in: without `indexing_dimension` the embeddings are BERT's hidden states (no projection;
 * the shipped nq-base.json sets FiD's 768), without `scheduler_steps` the learning rate decays over `total_steps`.
 */
export const REPRODUCE_DEFAULTS: PipelineConfig = {
  name: 'reproduce',
  seed: 0,
  iterations: 3,
  data: { passages: '', train: '', dev: '', test: undefined },
  tokenizer: { reader: '', retriever: '' },
  reader: {
    init: undefined, model: undefined,
    n_context: 100, text_maxlength: 250, answer_maxlength: 20,
    lr: 5e-5, weight_decay: 0.01, warmup_steps: 1000, total_steps: 15000, scheduler: 'linear',
    batch_size: 1, accumulation_steps: 64, clip: 1, checkpoint_every: 500,
    continue_from_previous: false, eval_batch_size: 4,
  },
  score: { softmax: 'pre', positions: 'first', log_mass: false, batch_size: 4 },
  retriever: {
    init: undefined, model: undefined,
    question_maxlength: 40, passage_maxlength: 200, n_context: 100, loss: 'kl',
    lr: 1e-4, weight_decay: 0.01, warmup_steps: 1000, total_steps: 20000, scheduler: 'linear',
    batch_size: 1, accumulation_steps: 1, clip: 1, checkpoint_every: 1000, continue_from_previous: true, in_batch_negatives: false,
  },
  embed: { num_shards: 1, batch_size: 500 },
  index: { factory: 'Flat' },
  retrieve: { n_passages: 100, batch_size: 64 },
  evaluate: { k: [1, 5, 20, 100], splits: ['dev', 'test'], reader_em: true, max_em_questions: 0 },
  baseline: { has_answer: false },
};
