// @fidkd/bi-encoder: BERT bi-encoder retriever in tfjs: pooling, projection, batched embedding, HF and FiD Retriever checkpoints.
export {};
