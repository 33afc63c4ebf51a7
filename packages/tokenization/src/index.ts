// @fidkd/tokenization: HF tokenizers wrapper: tokenizer.json loading, FiD reader/retriever input formats, padded batch encoding, WordPiece training.
export {};
