// @fidkd/faiss-index: PassageIndex over faiss-node: string ids, Flat / HNSW / IVF-PQ, settable search effort, persistence, shard merge.
export {};
