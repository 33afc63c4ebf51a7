import type { ReaderPretrainingConfig } from '@fidkd/orchestrator';

/**
 * Defaults of `fidkd pretrain-reader`: phase 1 of the checkpoint shipped in assets/pretrained-reader (the demo's
 * reader init). Phases 2 and 3 start from the previous phase's export (`--init`) with the settings in
 * assets/pretrained-reader/phases/phase-2-config.json and assets/pretrained-reader/pretrain-config.json (the
 * commands are in apps/reproduce/README.md, "The pretrained reader"). World seeds 900000+ are never used by a demo
 * (whose seeds are small integers).
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
    // tiny T5 v1.0 (relu), tied head; vocab_size from the tokenizer. d_model 32 with 2 + 2 layers (the reader
    // before issue 19) did not learn to tell namesakes apart; this one does (README)
    model: { d_model: 64, d_kv: 16, num_heads: 4, d_ff: 256, num_layers: 3, num_decoder_layers: 2, dropout_rate: 0 },
    n_context: 10,
    // a third of the clozes each: other passages of the subject, what BM25 finds for the cloze, other people's
    // passages only (the name picks the answer, as among a dense retriever's passages)
    contexts: ['subject', 'cloze', 'namesakes'],
    n_context_schedule: [[300, 2], [800, 5]],
    text_maxlength: 32,
    answer_maxlength: 4,
    lr: 2e-3,
    weight_decay: 0.01,
    warmup_steps: 50,
    total_steps: 4000,
    scheduler_steps: 4000,
    batch_size: 32,
    clip: 1,
    checkpoint_every: 200,
    eval_every: 250,
    eval_questions: 200,
    eval_contexts: ['namesakes'],
  },
};
