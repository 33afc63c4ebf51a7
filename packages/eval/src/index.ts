// @fidkd/eval: SQuAD answer normalisation, exact match, DPR SimpleTokenizer and has_answer, top-k accuracy, MRR, TREC runs, BLEU/ROUGE.
export { normalizeAnswer, exactMatch } from './normalize.js';
export { simpleTokenize, hasAnswer, type SimpleTokenizeOptions } from './simple-tokenizer.js';
export { pythonSplit, PYTHON_WHITESPACE, PYTHON_PUNCTUATION } from './python-text.js';
export { topKAccuracy, mrrAtK } from './retrieval-metrics.js';
export { writeTrecRun, readTrecRun, TrecRunError, type TrecRun, type TrecRunHit } from './trec-run.js';
export { type Tokens, toTokens } from './tokens.js';
export { corpusBleu, sentenceBleu, type BleuOptions, type BleuResult } from './bleu.js';
export { rougeL, corpusRougeL, lcsLength, type RougeLOptions, type RougeLResult } from './rouge.js';
