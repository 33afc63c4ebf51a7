// @fidkd/fid-reader: T5 Fusion-in-Decoder reader in tfjs: HF and official FiD checkpoints, loss, greedy generation, cross-attention relevance scores.
export {};
