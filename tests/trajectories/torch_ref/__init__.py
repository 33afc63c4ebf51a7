"""PyTorch reference of fidkd's reader (T5 as Fusion-in-Decoder) and retriever (BERT bi-encoder) and of their
training steps, written from Hugging Face transformers' T5/BERT and facebookresearch/FiD (src/model.py,
train_reader.py, train_retriever.py, src/util.py) for the training-parity tests. Plain torch, float32 by default,
no transformers dependency (Debian's python3-torch is the only requirement)."""
