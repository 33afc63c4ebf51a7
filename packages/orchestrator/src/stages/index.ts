import type { StageImplementations } from '../pipeline.js';
import { embedStage } from './embed.js';
import { evaluateStage } from './evaluate.js';
import { indexStage } from './index-stage.js';
import { retrieveStage } from './retrieve.js';
import { scoreStage } from './score.js';
import { trainReaderStage } from './train-reader.js';
import { trainRetrieverStage } from './train-retriever.js';

/** The real stage implementations: FiD reader (T5), bi-encoder (BERT), FAISS index, DPR/SQuAD evaluation. */
export function createStages(): StageImplementations {
  return {
    'train-reader': trainReaderStage,
    score: scoreStage,
    'train-retriever': trainRetrieverStage,
    embed: embedStage,
    index: indexStage,
    retrieve: retrieveStage,
    evaluate: evaluateStage,
  };
}

export { trainReaderStage, scoreStage, trainRetrieverStage, embedStage, indexStage, retrieveStage, evaluateStage };
export { batchIndices, permutation, mulberry32 } from './seeded.js';
export { NamesakeBatches } from './namesake-batches.js';
export { pretrainRetrieverStage, type PretrainRetrieverConfig } from './pretrain-retriever.js';
export { retrieverStep, type RetrieverBatch, type RetrieverStepOptions } from './retriever-step.js';
export { applyTeacherControl, type TeacherControl } from './teacher-controls.js';
export { teacherGoldAt1 } from './teacher-quality.js';
