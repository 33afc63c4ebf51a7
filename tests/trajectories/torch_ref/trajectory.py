"""Training trajectories with torch autograd and torch.optim: the loop of FiD's train_reader.py /
train_retriever.py (backward per micro-batch, then clip_grad_norm_, AdamW step, scheduler step, zero_grad) over the
fixed batches of a `fidkd parity --train-steps` batches file, recording per step the loss, the total gradient
norm and clip_grad_norm_'s coefficient, and every parameter at the end.

Gradient accumulation averages the micro-batches (each loss is divided by their number before backward), as
Hugging Face's Trainer does and as data-parallel training over that many devices does (the paper's batch of 64
on 64 GPUs: DDP averages). FiD's own scripts call backward on the undivided loss, i.e. sum micro-batch gradients;
fidkd follows the paper's effective batch, and so does this reference."""
import json
import math

import torch

from .bert import Retriever, all_scores, own_scores
from .losses import distillation_loss, resolve
from .t5 import FiDT5

FORMAT = "fidkd-trajectory/1"


class BatchesError(ValueError):
    pass


def warmup_linear(warmup_steps, scheduler_steps, min_ratio=0.0):
    """FiD's WarmupLinearScheduler.lr_lambda (src/util.py): the multiplier of update number `step` (0-based)."""

    def f(step):
        if step < warmup_steps:
            return (1 - min_ratio) * step / float(max(1, warmup_steps)) + min_ratio
        return max(0.0, 1.0 + (min_ratio - 1) * (step - warmup_steps) / float(max(1.0, scheduler_steps - warmup_steps)))

    return f


def _tensor(field, where):
    if not isinstance(field, dict) or "shape" not in field or "data" not in field:
        raise BatchesError(f"{where}: expected a {{dims, shape, dtype, data}} tensor")
    shape = field["shape"]
    if math.prod(shape) != len(field["data"]):
        raise BatchesError(f"{where}: {len(field['data'])} values for shape {shape}")
    if field.get("dtype") in ("int64", "int32", "bool"):
        return torch.tensor(field["data"], dtype=torch.long).reshape(shape)
    return torch.tensor(field["data"], dtype=torch.float64).reshape(shape).to(torch.float32)


READER_FIELDS = ("input_ids", "attention_mask", "labels")
RETRIEVER_FIELDS = ("question_ids", "question_mask", "passage_ids", "passage_mask", "gold_scores")


def load_batches(path):
    with open(path, encoding="utf-8") as f:
        spec = json.load(f)
    if spec.get("format") != FORMAT:
        raise BatchesError(f"{path}: \"format\" is {spec.get('format')!r}, expected {FORMAT!r}")
    kind = spec.get("kind")
    if kind not in ("reader", "retriever"):
        raise BatchesError(f"{path}: \"kind\" must be \"reader\" or \"retriever\", got {kind!r}")
    fields = READER_FIELDS if kind == "reader" else RETRIEVER_FIELDS
    steps = []
    for i, step in enumerate(spec.get("steps", [])):
        micro = []
        for j, mb in enumerate(step):
            micro.append({k: _tensor(mb.get(k), f"{path}: steps[{i}][{j}].{k}") for k in fields})
        steps.append(micro)
    spec["steps"] = steps
    return spec


def _retriever_loss(model, batch, loss):
    """The micro-batch loss of fidkd's retrieverStep: own passages, or with in-batch negatives every passage of
    the batch, the others' targets set so that they rank below the question's own (KL: gold -1e4, i.e. target
    mass 0; margin: one below the question's lowest gold). MSE has no target for them: it ignores the option."""
    variant = resolve(loss["variant"])
    q, p = model.embed(batch)
    gold = batch["gold_scores"]
    b, n = gold.shape
    if loss.get("in_batch_negatives") and not variant.startswith("mse"):
        s = all_scores(q, p)
        low = gold.min(dim=1, keepdim=True).values - 1 if variant.startswith("margin") else torch.full((b, 1), -1e4)
        target = low.expand(b, b * n).clone()
        for i in range(b):
            target[i, i * n:(i + 1) * n] = gold[i]
    else:
        s, target = own_scores(q, p), gold
    return distillation_loss(s, target, variant, gamma=loss.get("gamma", 1.0),
                             temperature_gold=loss.get("temperature_gold", 1.0),
                             temperature_score=loss.get("temperature_score", 1.0))


def load_model(checkpoint_dir, kind):
    return FiDT5.load(checkpoint_dir) if kind == "reader" else Retriever.load(checkpoint_dir)


def run(model, spec, train_steps):
    """Trains `model` for `train_steps` optimizer steps of `spec`; returns the trajectory record."""
    if train_steps > len(spec["steps"]):
        raise BatchesError(f"--train-steps {train_steps}: the batches file holds {len(spec['steps'])} steps")
    o = spec["optimizer"]
    named = model.named_parameters()
    trainable = [t for t in named.values() if t.requires_grad]
    opt = torch.optim.AdamW(trainable, lr=o["lr"], betas=(o["beta1"], o["beta2"]), eps=o["eps"],
                            weight_decay=o["weight_decay"])
    sched = torch.optim.lr_scheduler.LambdaLR(opt, warmup_linear(o["warmup_steps"], o["scheduler_steps"]))
    clip = o["clip"]
    if spec["kind"] == "reader":
        loss_of = model.loss
    else:
        loss_of = lambda batch: _retriever_loss(model, batch, spec["loss"])
    out = {"losses": [], "grad_norms": [], "clip_coefficients": [], "lrs": [], "param_grad_norms": {}}
    trained = {name: t for name, t in named.items() if t.requires_grad}
    for step in range(train_steps):
        micro = spec["steps"][step]
        opt.zero_grad(set_to_none=True)
        total = 0.0
        for batch in micro:
            loss = loss_of(batch)
            if not torch.isfinite(loss):
                raise FloatingPointError(f"step {step + 1}: non-finite loss {loss.item()}")
            (loss / len(micro)).backward()
            total += loss.item()
        lr = opt.param_groups[0]["lr"]
        # per tensor, before clipping: which tensor's gradient differs first, and which are only rounding noise
        for name, t in trained.items():
            out["param_grad_norms"].setdefault(name, []).append(0.0 if t.grad is None else torch.norm(t.grad, 2.0).item())
        if clip > 0:
            norm = torch.nn.utils.clip_grad_norm_(trainable, clip)
            coef = torch.clamp(clip / (norm + 1e-6), max=1.0).item()
        else:
            grads = [t.grad for t in trainable if t.grad is not None]
            norm = torch.norm(torch.stack([torch.norm(g, 2.0) for g in grads]), 2.0)
            coef = 1.0
        opt.step()
        sched.step()
        out["losses"].append(total / len(micro))
        out["grad_norms"].append(norm.item())
        out["clip_coefficients"].append(coef)
        out["lrs"].append(lr)
    out["params"] = {name: t.detach() for name, t in named.items()}
    return out
