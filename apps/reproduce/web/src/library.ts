// The library code the page runs, bundled from the packages' sources: the page tokenizes (WordPiece with the ids
// of `tokenizers`), embeds questions (the bi-encoder's own forward pass) and ranks BM25 with the code `fidkd
// retrieve` and the demo's BM25 stage use. scripts/build-web.mjs maps their '@fidkd/core' and
// '@tensorflow/tfjs' imports to browser modules.
export { embedBatchRows } from '../../../../packages/bi-encoder/src/embed-text.js';
export type { ParameterMap } from '../../../../packages/bi-encoder/src/bert.js';
export type { BiEncoderConfig } from '../../../../packages/bi-encoder/src/config.js';
export { Bm25Index, type Bm25Hit } from '../../../../packages/data/src/bm25.js';
export { WordPieceTokenizer, encodeTexts } from '../../../../packages/tokenization/src/wordpiece-entry.js';
export { fixWasmFusedMatMul } from '../../../../packages/core/src/backend/wasm-fused-matmul.js';
