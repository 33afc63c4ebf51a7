// @fidkd/data: FiD question files, passages TSV streaming and random access, embedding shards, BM25, the synthetic world.
export {};
