import { fileURLToPath } from 'node:url';
import type { PipelineConfig, SyntheticPrepareConfig } from '@fidkd/orchestrator';

/**
 * The demo's pretrained reader and its fixed vocabulary, made by `fidkd pretrain-reader --export` (the command and
 * its log are in the directory): the stand-in for the pretrained T5 the paper starts from.
 */
export const PRETRAINED_READER_DIR = fileURLToPath(new URL('../../assets/pretrained-reader', import.meta.url));

/**
 * Every setting of `fidkd demo` in one typed object: the synthetic world, the shared WordPiece tokenizer, BM25
 * D⁰, and the tiny reader (T5) / retriever (BERT) with their training hyperparameters. A `--config FILE` JSON
 * overrides any subset (unknown keys are errors); `--seed`, `--loss`, `--iterations` override on top.
 */
export interface DemoConfig {
  seed: number;
  prepare: Omit<SyntheticPrepareConfig, 'seed' | 'pretrain_retriever'>;
  /**
   * Unsupervised title → passage pretraining of the tiny BERT before any distillation (the stand-in for the
   * pretrained BERT of the paper); the distilled retrievers and the has_answer baseline both start from it.
   * Model dims and max lengths are the retriever's.
   */
  pretrain_retriever: {
    enabled: boolean; lr: number; weight_decay: number; warmup_steps: number; total_steps: number; batch_size: number; clip: number; checkpoint_every: number;
    /** Batches made of groups of this many namesakes' passages (hard negatives: whole names, not one word); 1: random batches. */
    namesake_group: number;
  };
  pipeline: Omit<PipelineConfig, 'data' | 'tokenizer' | 'seed' | 'name'>;
}

const optim = {
  weight_decay: 0.01,
  scheduler: 'linear' as const,
  accumulation_steps: 1,
  clip: 1,
  checkpoint_every: 50,
};

export const DEMO_DEFAULTS: DemoConfig = {
  seed: 1,
  prepare: {
    // 1400 dev questions (all the (person, relation) pairs that train and test leave): at 400, the EM of two
    // readers at 0.96 differs with a standard deviation of 1.4 points from the draw of questions alone — more than
    // the 0.01 by which the iterations are compared; at 1400, 0.7
    world: { numDev: 1400 },
    tokenizer: { vocab_size: 1000, file: `${PRETRAINED_READER_DIR}/tokenizer.json` },
    bm25: { k1: 0.9, b: 0.4, n_passages: 20 },
  },
  pretrain_retriever: { enabled: true, lr: 1e-3, weight_decay: 0.01, warmup_steps: 20, total_steps: 300, batch_size: 32, clip: 1, checkpoint_every: 100, namesake_group: 1 },
  pipeline: {
    iterations: 1,
    reader: {
      ...optim,
      // starts from the pretrained tiny T5 (d_model 64, 3 + 2 layers; its config.json); `model` is used when
      // `init` is unset (--set pipeline.reader.init= trains one from scratch with this config)
      init: PRETRAINED_READER_DIR,
      model: { d_model: 64, d_kv: 16, num_heads: 4, d_ff: 256, num_layers: 3, num_decoder_layers: 2, dropout_rate: 0 },
      n_context: 10,
      text_maxlength: 32,
      answer_maxlength: 4,
      // fine-tuning the pretrained reader on the world's question–answer pairs (no passage labels)
      lr: 1e-3,
      warmup_steps: 20,
      // 800 steps (8.5 epochs): on a late iteration's D^t, where namesakes' passages of the asked relation fill
      // the list, 200 steps left dev EM at 0.93–0.94 (four training seeds), 400 at 0.945–0.96 (three), and one
      // reader's EM moved by 2–3 points with its batch order alone; 800 steps on seed 62's D¹ / D² gave dev + test
      // EM 0.960 / 0.976 where 400 had given 0.974 / 0.946 (tuning seeds 1001 and 62, apps/reproduce/README.md
      // "Training steps"); lr 5e-4: 0.88–0.91, 2e-3: 0.93
      total_steps: 800,
      batch_size: 32,
      continue_from_previous: false,
      eval_batch_size: 16,
    },
    // the paper's post-softmax aggregation as the log of each passage's attention mass: softmax(G) is the tiny
    // reader's attention distribution over its passages (its pre-softmax averages point at the gold passage less
    // often: gold@1 0.64 vs 0.83 after fine-tuning, apps/reproduce/README.md)
    score: { softmax: 'post', positions: 'first', log_mass: true, batch_size: 32 },
    retriever: {
      ...optim,
      // tiny BERT, masked-mean pooling, no projection; vocab_size from the tokenizer; no dropout (exact resume)
      model: { bert: { hiddenSize: 64, numHiddenLayers: 2, numAttentionHeads: 4, intermediateSize: 128, maxPositionEmbeddings: 64, hiddenDropoutProb: 0, attentionProbsDropoutProb: 0 } },
      question_maxlength: 16,
      passage_maxlength: 40,
      n_context: 10,
      loss: 'kl',
      // softmax(G / 2) in the KL: the tiny reader's attention is so peaked on the passage it reads that at
      // temperature 1 the retriever learns only the asked relation and ranks namesakes' passages of that relation
      // above the person's own (the last reader's D¹ then asks it to tell names apart, which it cannot); at 2 the
      // person's other passages keep some mass (apps/reproduce/README.md, "The teacher's temperature")
      temperature_gold: 2,
      lr: 1e-3,
      warmup_steps: 20,
      // 1200 steps of 8 questions (3.2 epochs): trained on the teacher of D¹, 300 steps left dev gold R@1 at 0.39
      // (R@5 0.89), 600 at 0.72 (0.98), 1200 at 0.98 (1.00) (tuning seed 1001) — the iteration's retriever was
      // undertrained, and its dip was what made gold R@5 fall at iteration 2
      total_steps: 1200,
      batch_size: 8,
      // each iteration's retriever restarts from the pretrained BERT stand-in, as the reader restarts from its
      // pretrained checkpoint: a continued retriever grows so sharp that D^t+1 is the gold passage and nine
      // namesakes' passages of the asked relation, and the next reader answers less often (apps/reproduce/README.md)
      continue_from_previous: false,
      // not in the paper: lets the from-scratch tiny BERT also learn to tell entities apart (see RetrieverConfig)
      in_batch_negatives: true,
      namesake_group: 1,
    },
    embed: { num_shards: 1, batch_size: 64 },
    index: { factory: 'Flat' },
    retrieve: { n_passages: 20, batch_size: 64 },
    evaluate: { k: [1, 5, 20], splits: ['dev', 'test'], reader_em: true, max_em_questions: 0 },
    baseline: { has_answer: true, shuffled_teacher: true },
  },
};
