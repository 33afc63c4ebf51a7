"""The reference ONNX graph of the embed-ort suite (src/suites/embed-ort.ts): the plain-torch BERT of
retriever_step.py (HF BertModel semantics, masked-mean pooling) with the weights of a fidkd checkpoint
(model.safetensors, HF BertModel names), exported by torch.onnx (opset 14, dynamic batch and sequence axes) as a
user of transformers.js / optimum would get it. Python runs only here, to build the reference; fidkd's own graph
is written by @fidkd/bi-encoder's exporter.
  python3 onnx_export.py --checkpoint DIR --out FILE.onnx --heads 12
Prints one JSON line: {"file", "torch", "opset"}.
"""
import argparse
import json
import struct

import torch

from retriever_step import embed

DTYPES = {"F32": torch.float32}


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] not in DTYPES:
            raise SystemExit(f"{path}: tensor {name} has dtype {info['dtype']}, expected F32")
        start, end = info["data_offsets"]
        t = torch.frombuffer(bytearray(data[base + start:base + end]), dtype=DTYPES[info["dtype"]])
        out[name] = t.reshape(info["shape"])
    return out


def params_from(t, layers):
    def g(name):
        if name not in t:
            raise SystemExit(f"checkpoint has no tensor {name}")
        return t[name]

    p = {"word": g("embeddings.word_embeddings.weight"), "pos": g("embeddings.position_embeddings.weight"),
         "type": g("embeddings.token_type_embeddings.weight"), "emb_ln_g": g("embeddings.LayerNorm.weight"),
         "emb_ln_b": g("embeddings.LayerNorm.bias"), "layers": []}
    for i in range(layers):
        pre = f"encoder.layer.{i}."
        names = {"q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
                 "o": "attention.output.dense", "i": "intermediate.dense", "f": "output.dense"}
        lp = {}
        for short, long in names.items():
            lp[f"{short}_w"] = g(pre + long + ".weight")
            lp[f"{short}_b"] = g(pre + long + ".bias")
        lp["ln1_g"] = g(pre + "attention.output.LayerNorm.weight")
        lp["ln1_b"] = g(pre + "attention.output.LayerNorm.bias")
        lp["ln2_g"] = g(pre + "output.LayerNorm.weight")
        lp["ln2_b"] = g(pre + "output.LayerNorm.bias")
        p["layers"].append(lp)
    return p


class Embedder(torch.nn.Module):
    def __init__(self, p, heads):
        super().__init__()
        self.p = p
        self.heads = heads

    def forward(self, ids, mask):
        return embed(self.p, ids, mask, self.heads)


def main():
    a = argparse.ArgumentParser()
    a.add_argument("--checkpoint", required=True)
    a.add_argument("--out", required=True)
    a.add_argument("--heads", type=int, required=True)
    a.add_argument("--opset", type=int, default=14)
    args = a.parse_args()
    t = read_safetensors(f"{args.checkpoint}/model.safetensors")
    layers = len({k.split(".")[2] for k in t if k.startswith("encoder.layer.")})
    model = Embedder(params_from(t, layers), args.heads).eval()
    ids = torch.randint(4, 100, (2, 16))
    mask = torch.ones(2, 16, dtype=torch.long)
    with torch.no_grad():
        torch.onnx.export(model, (ids, mask), args.out, input_names=["input_ids", "attention_mask"],
                          output_names=["embeddings"], opset_version=args.opset,
                          dynamic_axes={"input_ids": {0: "batch", 1: "sequence"},
                                        "attention_mask": {0: "batch", 1: "sequence"},
                                        "embeddings": {0: "batch"}})
    print(json.dumps({"file": args.out, "torch": torch.__version__, "opset": args.opset}))


if __name__ == "__main__":
    main()
