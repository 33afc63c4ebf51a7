// @fidkd/faiss-index: PassageIndex over faiss-node: string ids, Flat / HNSW / IVF-PQ, settable search effort, persistence, shard merge.
export { PassageIndex } from './passage-index.js';
export type { AddOptions, IndexMetric, LoadOptions, PassageIndexOptions, SearchHit } from './passage-index.js';
export type { IndexManifest, SearchParameters } from './manifest.js';
export { FAISS_FILE, IDS_FILE, MANIFEST_FILE, readManifest } from './manifest.js';
export { PassageIndexError } from './errors.js';
export { DEFAULT_EF_SEARCH, DEFAULT_NPROBE } from './search-effort.js';
export { parseFaissIndex } from './faiss-format.js';
export type { FaissLayout, FaissNode, KnobLocation } from './faiss-format.js';
export { bufferSource, fileSource } from './byte-source.js';
export type { ByteSource } from './byte-source.js';
export { clusteredVectors } from './synthetic-vectors.js';
export type { ClusteredVectorsOptions } from './synthetic-vectors.js';
