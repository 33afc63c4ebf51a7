// @fidkd/tokenization: HF tokenizers wrapper: tokenizer.json loading, FiD reader/retriever input formats, padded batch encoding, WordPiece training.
export * from './errors.js';
export * from './tokenizer.js';
export * from './special-tokens.js';
export * from './formats.js';
export * from './batches.js';
export * from './encode.js';
export * from './train.js';
export * from './bert-normalizer.js';
export * from './wordpiece.js';
