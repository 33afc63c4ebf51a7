#!/usr/bin/env python3
"""PyTorch reference of fidkd's training: the same optimizer steps on the same fixed batches.

    python3 tests/trajectories/torch_reference.py CHECKPOINT_DIR --train-steps N --batches FILE.batches.json --out REF
    python3 tests/trajectories/torch_reference.py --check-oracle [fixtures/oracle]

The first form reads the batches (and the optimizer / loss settings) that `fidkd parity CHECKPOINT_DIR
--train-steps N --out FILE` wrote to FILE.batches.json, trains the checkpoint (a T5 reader or a BERT retriever, by
config.json's model_type) with torch autograd and torch.optim.AdamW in float32, and writes REF as
{"losses", "grad_norms", "clip_coefficients", "lrs", "params": {name: {"shape", "data"}}}. The second reproduces
every field of the oracle fixtures (Hugging Face transformers / official FiD outputs) in float64 and float32 and
exits 1 if any is off: what makes this script a reference.

Needs Debian's python3-torch: when the running interpreter lacks torch, the script reruns itself with one that has
it (FIDKD_PYTHON, /usr/bin/python3), and when none has it, installs it through `node scripts/setup-torch.mjs`
(apt, as root) and says so. Exit status: 0 done, 1 oracle mismatch, 2 bad input or no torch.
"""
import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def _ensure_torch():
    try:
        import torch  # noqa: F401

        return
    except ImportError:
        pass
    if os.environ.get("FIDKD_TORCH_REEXEC"):
        sys.exit(f"torch_reference.py: {sys.executable} has no torch either")
    for python in [os.environ.get("FIDKD_PYTHON"), "/usr/bin/python3"]:
        if python and os.path.realpath(python) != os.path.realpath(sys.executable) and os.path.exists(python):
            if subprocess.run([python, "-c", "import torch"], capture_output=True).returncode == 0:
                break
    else:
        print("torch_reference.py: PyTorch is missing: installing Debian python3-torch (node scripts/setup-torch.mjs)",
              file=sys.stderr)
        r = subprocess.run(["node", os.path.join(ROOT, "scripts", "setup-torch.mjs")], stdout=subprocess.PIPE, text=True)
        if r.returncode != 0:
            sys.exit(2)
        python = r.stdout.strip().splitlines()[-1]
    env = dict(os.environ, FIDKD_TORCH_REEXEC="1")
    os.execve(python, [python, os.path.abspath(__file__), *sys.argv[1:]], env)


def _model_kind(checkpoint_dir):
    """'reader' (T5) or 'retriever' (BERT) from config.json, as `fidkd parity` decides."""
    path = os.path.join(checkpoint_dir, "config.json")
    with open(path, encoding="utf-8") as f:
        config = json.load(f)
    mt = config.get("model_type")
    arch = " ".join(config.get("architectures") or [])
    if mt is None:
        if "T5" in arch or "d_kv" in config or "relative_attention_num_buckets" in config:
            mt = "t5"
        elif "Bert" in arch or "Retriever" in arch or "indexing_dimension" in config or "num_hidden_layers" in config:
            mt = "bert"
    if mt == "t5":
        return "reader"
    if mt == "bert":
        return "retriever"
    raise ValueError(f"{path}: model_type {mt!r} is not supported (expected \"t5\" or \"bert\")")


def _write_json(path, record):
    """JSON with each parameter as its shortest float32 decimal (the record stays small and exact in float32)."""
    import numpy as np

    parts = []
    for key in ("losses", "grad_norms", "clip_coefficients", "lrs"):
        parts.append(f"{json.dumps(key)}: {json.dumps(record[key])}")
    params = []
    for name, t in record["params"].items():
        arr = t.to("cpu").numpy().astype(np.float32).reshape(-1)
        if not np.isfinite(arr).all():
            raise FloatingPointError(f"parameter {name} is not finite")
        data = ",".join(str(x) for x in arr)
        params.append(f"{json.dumps(name)}: {{\"shape\": {json.dumps(list(t.shape))}, \"data\": [{data}]}}")
    parts.append(f"\"param_grad_norms\": {json.dumps(record['param_grad_norms'])}")
    parts.append("\"params\": {\n" + ",\n".join(params) + "\n}")
    parts.append(f"\"_meta\": {json.dumps(record['_meta'])}")
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("{\n" + ",\n".join(parts) + "\n}\n")
    os.replace(tmp, path)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("checkpoint", nargs="?", help="checkpoint directory (config.json + model.safetensors or pytorch_model.bin)")
    ap.add_argument("--train-steps", type=int, help="optimizer steps to run (at most the batches file's)")
    ap.add_argument("--batches", help="FILE.batches.json written by `fidkd parity --train-steps`")
    ap.add_argument("--out", help="where to write the reference trajectory (JSON, atomically)")
    ap.add_argument("--check-oracle", nargs="?", const=os.path.join(ROOT, "fixtures", "oracle"), metavar="DIR",
                    help="reproduce the oracle fixtures under DIR (default fixtures/oracle) and report")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (default: torch's choice)")
    args = ap.parse_args(argv)
    _ensure_torch()
    import torch

    from torch_ref import oracle, trajectory

    if args.threads > 0:
        torch.set_num_threads(args.threads)
    if args.check_oracle:
        report = oracle.check_all(args.check_oracle)
        worst = {}
        for row in report.rows:
            key = f"{row['fixture'].split('/')[0]} {row['dtype']}"
            worst[key] = max(worst.get(key, 0.0), row.get("max_scaled_error", float("inf")))
        for row in report.rows:
            if not row["ok"]:
                print(f"MISMATCH {row}", file=sys.stderr)
        print(json.dumps({"ok": report.ok, "fields": len(report.rows), "tolerance": {"float64": 1e-12, "float32": 1e-4},
                          "max_scaled_error": worst}))
        return 0 if report.ok else 1
    missing = [f"--{n.replace('_', '-')}" for n in ("train_steps", "batches", "out") if getattr(args, n) is None]
    if args.checkpoint is None or missing:
        ap.error(f"give CHECKPOINT_DIR {' '.join(missing)} (or --check-oracle)")
    if args.train_steps < 1:
        ap.error("--train-steps must be >= 1")
    try:
        kind = _model_kind(args.checkpoint)
        spec = trajectory.load_batches(args.batches)
        if spec["kind"] != kind:
            raise trajectory.BatchesError(f"{args.batches}: batches for a {spec['kind']}, but {args.checkpoint} is a {kind}")
        model = trajectory.load_model(args.checkpoint, kind)
        record = trajectory.run(model, spec, args.train_steps)
    except (OSError, ValueError, KeyError, FloatingPointError) as e:
        print(f"torch_reference.py: error: {e}", file=sys.stderr)
        return 2
    record["_meta"] = {"produced_by": "tests/trajectories/torch_reference.py", "torch": torch.__version__,
                       "checkpoint": args.checkpoint, "kind": kind, "train_steps": args.train_steps}
    _write_json(args.out, record)
    print(f"wrote {args.train_steps} steps and {len(record['params'])} parameters to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.dont_write_bytecode = True  # no __pycache__ in the working tree
    sys.path.insert(0, HERE)
    sys.exit(main(sys.argv[1:]))
