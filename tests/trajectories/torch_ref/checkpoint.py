"""Checkpoint directories as Hugging Face writes them: config.json plus model.safetensors (read here without the
safetensors package: 8-byte little-endian header length, JSON header, raw little-endian data) or
pytorch_model.bin (torch.load)."""
import json
import os
import struct

import numpy as np
import torch

_DTYPES = {
    "F64": np.float64,
    "F32": np.float32,
    "F16": np.float16,
    "I64": np.int64,
    "I32": np.int32,
}


def read_safetensors(path):
    """name -> float32 torch tensor (BF16 widened by shifting into the top half of a float32)."""
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8 : 8 + n].decode("utf-8"))
    data = blob[8 + n :]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        raw = data[begin:end]
        dtype = info["dtype"]
        if dtype == "BF16":
            arr = (np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
        elif dtype in _DTYPES:
            arr = np.frombuffer(raw, dtype=np.dtype(_DTYPES[dtype]).newbyteorder("<"))
        else:
            raise ValueError(f"{path}: tensor {name!r} has unsupported dtype {dtype}")
        out[name] = torch.from_numpy(np.array(arr, dtype=np.float32).reshape(info["shape"]))
    return out


def write_safetensors(path, tensors):
    """Writes float32 tensors in sorted-name order, header padded with spaces to a multiple of 8 (atomically)."""
    header = {"__metadata__": {"format": "pt"}}
    chunks = []
    offset = 0
    for name in sorted(tensors):
        arr = tensors[name].detach().to(torch.float32).contiguous().numpy().astype("<f4")
        raw = arr.tobytes()
        header[name] = {"dtype": "F32", "shape": list(arr.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in chunks:
            f.write(raw)
    os.replace(tmp, path)


def load_checkpoint(directory):
    """(config dict, {name: float32 tensor}, weights file) of an HF checkpoint directory."""
    cfg_file = os.path.join(directory, "config.json")
    if not os.path.exists(cfg_file):
        raise FileNotFoundError(f"{directory}: no config.json (give a Hugging Face checkpoint directory)")
    with open(cfg_file, encoding="utf-8") as f:
        config = json.load(f)
    st = os.path.join(directory, "model.safetensors")
    bin_file = os.path.join(directory, "pytorch_model.bin")
    if os.path.exists(st):
        return config, read_safetensors(st), st
    if os.path.exists(bin_file):
        state = torch.load(bin_file, map_location="cpu")
        if "state_dict" in state and isinstance(state["state_dict"], dict):
            state = state["state_dict"]
        tensors = {k: v.to(torch.float32) for k, v in state.items() if torch.is_tensor(v) and v.is_floating_point()}
        return config, tensors, bin_file
    raise FileNotFoundError(f"{directory}: neither model.safetensors nor pytorch_model.bin")


def write_config(path, config):
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(config, f, indent=2, sort_keys=True)
        f.write("\n")
    os.replace(tmp, path)
