import type { ReaderPretrainingConfig } from '@fidkd/orchestrator';

/**
 * Defaults of `fidkd pretrain-reader`: the checkpoint shipped in assets/pretrained-reader (the demo's reader init)
 * was made with them. World seeds 900000+ are never used by a demo (whose seeds are small integers).
 */
export const PRETRAIN_READER_DEFAULTS: ReaderPretrainingConfig = {
  tokenizer: { vocab_size: 1000 },
  reader: {
    seed: 900000,
    worlds: [900001, 900002, 900003, 900004, 900005, 900006],
    eval_world: 900000,
    // the demo's world, with facts restated in other words (a cloze from one statement is answered from the other)
    world: { restateRate: 0.5 },
    bm25: { k1: 0.9, b: 0.4 },
    // the demo's reader: tiny T5 v1.0 (relu), tied head; vocab_size from the tokenizer
    model: { d_model: 32, d_kv: 8, num_heads: 4, d_ff: 128, num_layers: 2, num_decoder_layers: 2, dropout_rate: 0 },
    n_context: 10,
    contexts: 'subject',
    n_context_schedule: [[300, 2], [800, 5]],
    text_maxlength: 32,
    answer_maxlength: 4,
    lr: 3e-3,
    weight_decay: 0.01,
    warmup_steps: 50,
    // the shipped checkpoint: a 2000-step schedule stopped at step 1300 (held-out cloze EM 0.77 there), for time
    total_steps: 1300,
    scheduler_steps: 2000,
    batch_size: 32,
    clip: 1,
    checkpoint_every: 100,
    eval_every: 100,
    eval_questions: 200,
    eval_contexts: ['namesakes'],
  },
};
