// @fidkd/tokenization/wordpiece: the parts of the package without native code, for browsers and bundlers —
// BERT WordPiece tokenization with the ids of the `tokenizers` library, and the retriever / reader batch encoders.
export * from './errors.js';
export * from './bert-normalizer.js';
export * from './wordpiece.js';
export * from './formats.js';
export * from './encode.js';
export { SPECIAL_TOKEN_CANDIDATES, findSpecialTokenIds, type SpecialTokenIds } from './special-tokens.js';
