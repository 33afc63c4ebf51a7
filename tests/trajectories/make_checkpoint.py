#!/usr/bin/env python3
"""Writes a tiny random checkpoint (config.json + model.safetensors in Hugging Face layout) for the training-parity
tests, so that fidkd and the PyTorch reference can be pointed at a model neither has seen:

    python3 tests/trajectories/make_checkpoint.py OUT_DIR t5 --d-model 24 --d-kv 6 --heads 3 --gated --untied
    python3 tests/trajectories/make_checkpoint.py OUT_DIR bert --hidden 24 --heads 3 --projection 16 --layout fid-retriever

Weights are drawn from torch's generator seeded with --seed: normal with HF-like scales, and normalisation weights
and biases perturbed away from 1 and 0 (so that a wrong use of them shows in a trajectory).
"""
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def t5_checkpoint(a, gen):
    import torch

    from torch_ref.t5 import T5Config, param_names

    config = {
        "architectures": ["T5ForConditionalGeneration"], "d_ff": a.d_ff, "d_kv": a.d_kv, "d_model": a.d_model,
        "decoder_start_token_id": 0, "dense_act_fn": "gelu_new" if a.gated else "relu", "dropout_rate": 0.1,
        "eos_token_id": 1, "feed_forward_proj": "gated-gelu" if a.gated else "relu", "initializer_factor": 1.0,
        "is_encoder_decoder": True, "is_gated_act": a.gated, "layer_norm_epsilon": a.eps, "model_type": "t5",
        "num_decoder_layers": a.decoder_layers or a.layers, "num_heads": a.heads, "num_layers": a.layers,
        "pad_token_id": 0, "relative_attention_max_distance": a.max_distance,
        "relative_attention_num_buckets": a.buckets, "tie_word_embeddings": not a.untied, "torch_dtype": "float32",
        "use_cache": True, "vocab_size": a.vocab,
    }
    c = T5Config(config)
    tensors = {}
    for name in param_names(c):
        if name.endswith("layer_norm.weight"):
            tensors[name] = 1.0 + 0.1 * torch.randn(a.d_model, generator=gen)
            continue
        if name in ("shared.weight", "lm_head.weight"):
            shape, std = (a.vocab, a.d_model), 1.0
        elif name.endswith("relative_attention_bias.weight"):
            shape, std = (a.buckets, a.heads), a.d_model ** -0.5
        elif name.endswith(".o.weight"):
            shape, std = (a.d_model, a.heads * a.d_kv), (a.heads * a.d_kv) ** -0.5
        elif name.endswith((".q.weight", ".k.weight", ".v.weight")):
            shape, std = (a.heads * a.d_kv, a.d_model), a.d_model ** -0.5
        elif name.endswith("wo.weight"):
            shape, std = (a.d_model, a.d_ff), a.d_ff ** -0.5
        else:  # wi / wi_0 / wi_1
            shape, std = (a.d_ff, a.d_model), a.d_model ** -0.5
        tensors[name] = std * torch.randn(*shape, generator=gen)
    return config, tensors


def bert_checkpoint(a, gen):
    import torch

    from torch_ref.bert import RetrieverConfig, param_names

    prefix = {"bert": "", "bert-prefixed": "bert.", "fid-retriever": "model."}[a.layout]
    arch = {"bert": "BertModel", "bert-prefixed": "BertForPreTraining", "fid-retriever": "Retriever"}[a.layout]
    config = {
        "architectures": [arch], "attention_probs_dropout_prob": 0.1, "hidden_act": a.act, "hidden_dropout_prob": 0.1,
        "hidden_size": a.hidden, "initializer_range": 0.02, "intermediate_size": a.intermediate,
        "layer_norm_eps": a.bert_eps, "max_position_embeddings": a.max_positions, "model_type": "bert",
        "num_attention_heads": a.heads, "num_hidden_layers": a.layers, "pad_token_id": 0,
        "position_embedding_type": "absolute", "type_vocab_size": 2, "vocab_size": a.vocab,
        "indexing_dimension": a.projection or a.hidden, "projection": a.projection > 0, "extract_cls": a.extract_cls,
        "apply_question_mask": not a.no_question_mask, "apply_passage_mask": not a.no_passage_mask,
        "question_maxlength": 40, "passage_maxlength": 200,
    }
    c = RetrieverConfig(config, a.projection > 0)
    shapes = {
        "embeddings.word_embeddings.weight": (a.vocab, a.hidden),
        "embeddings.position_embeddings.weight": (a.max_positions, a.hidden),
        "embeddings.token_type_embeddings.weight": (2, a.hidden),
        "pooler.dense.weight": (a.hidden, a.hidden), "proj.weight": (a.projection, a.hidden),
    }
    tensors = {}
    for name in param_names(c, with_pooler=True):
        stored = name if name.startswith(("proj.", "norm.")) else prefix + name
        width = a.projection if name.startswith(("proj.", "norm.")) else a.hidden
        if name.endswith("LayerNorm.weight") or name == "norm.weight":
            tensors[stored] = 1.0 + 0.1 * torch.randn(width, generator=gen)
        elif name.endswith(".bias"):
            out = a.intermediate if "intermediate" in name else width
            tensors[stored] = 0.02 * torch.randn(out, generator=gen)
        else:
            shape = shapes.get(name)
            if shape is None:
                shape = (a.intermediate, a.hidden) if "intermediate" in name else (
                    (a.hidden, a.intermediate) if name.endswith("output.dense.weight") and "attention" not in name else (a.hidden, a.hidden))
            tensors[stored] = 0.05 * torch.randn(*shape, generator=gen)
    return config, tensors


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out")
    ap.add_argument("kind", choices=["t5", "bert"])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--vocab", type=int, default=50)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--heads", type=int, default=3)
    # T5
    ap.add_argument("--d-model", type=int, default=24)
    ap.add_argument("--d-kv", type=int, default=6)
    ap.add_argument("--d-ff", type=int, default=40)
    ap.add_argument("--decoder-layers", type=int, default=0)
    ap.add_argument("--buckets", type=int, default=8)
    ap.add_argument("--max-distance", type=int, default=20)
    ap.add_argument("--eps", type=float, default=1e-6)
    ap.add_argument("--gated", action="store_true", help="gated-gelu feed-forward (T5 v1.1)")
    ap.add_argument("--untied", action="store_true", help="separate lm_head (no d_model**-0.5 rescale)")
    # BERT
    ap.add_argument("--hidden", type=int, default=24)
    ap.add_argument("--intermediate", type=int, default=48)
    ap.add_argument("--max-positions", type=int, default=40)
    ap.add_argument("--act", default="gelu", choices=["gelu", "gelu_new", "relu"])
    ap.add_argument("--bert-eps", type=float, default=1e-12)
    ap.add_argument("--projection", type=int, default=0, help="indexing_dimension of a Linear + LayerNorm projection (0: none)")
    ap.add_argument("--layout", default="bert", choices=["bert", "bert-prefixed", "fid-retriever"])
    ap.add_argument("--extract-cls", action="store_true")
    ap.add_argument("--no-question-mask", action="store_true")
    ap.add_argument("--no-passage-mask", action="store_true")
    a = ap.parse_args(argv)

    sys.path.insert(0, HERE)
    import torch

    from torch_ref.checkpoint import write_config, write_safetensors

    gen = torch.Generator().manual_seed(a.seed)
    config, tensors = t5_checkpoint(a, gen) if a.kind == "t5" else bert_checkpoint(a, gen)
    os.makedirs(a.out, exist_ok=True)
    write_safetensors(os.path.join(a.out, "model.safetensors"), tensors)
    write_config(os.path.join(a.out, "config.json"), config)
    n = sum(t.numel() for t in tensors.values())
    print(f"wrote {a.kind} checkpoint with {len(tensors)} tensors ({n} parameters) to {a.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.dont_write_bytecode = True  # no __pycache__ in the working tree
    sys.exit(main(sys.argv[1:]))
