"""Distillation losses of retriever scores S against reader scores G ([question, passage], softmax over passages):
KL as FiD's Retriever.kldivloss (nn.KLDivLoss on log_softmax(S), softmax(G); 'mean' reduction = over Q*P), MSE and
max-margin as the paper writes them, with the reductions of fixtures/oracle/losses."""
import warnings

import torch
import torch.nn.functional as F

# KLDivLoss's 'mean' (divide by Q*P) is exactly what FiD's Retriever uses; torch warns about it on every call.
warnings.filterwarnings("ignore", message="reduction: 'mean' divides the total loss")

FAMILIES = {"kl": "kl_repo", "mse": "mse_sum", "margin": "margin_all_pairs_sum"}

VARIANTS = (
    "kl_repo", "kl_sum", "kl_batchmean", "mse_sum", "mse_mean", "margin_all_pairs_sum", "margin_all_pairs_mean",
    "margin_distinct_pairs_mean", "margin_ordered_pos_pairs_sum", "margin_ordered_pos_pairs_mean",
)


def resolve(name):
    name = FAMILIES.get(name, name)
    if name not in VARIANTS:
        raise ValueError(f"unknown loss {name!r}")
    return name


def distillation_loss(s, g, variant="kl_repo", gamma=1.0, temperature_gold=1.0, temperature_score=1.0):
    variant = resolve(variant)
    g = g.detach()
    q, p = s.shape
    if variant.startswith("kl"):
        target = torch.softmax(g / temperature_gold, dim=-1)
        log_s = F.log_softmax(s / temperature_score, dim=-1)
        reduction = {"kl_repo": "mean", "kl_sum": "sum", "kl_batchmean": "batchmean"}[variant]
        return F.kl_div(log_s, target, reduction=reduction)
    if variant.startswith("mse"):
        return F.mse_loss(s, g, reduction="sum" if variant == "mse_sum" else "mean")
    ds = s[:, :, None] - s[:, None, :]  # S_i - S_j
    sign = torch.sign(g[:, :, None] - g[:, None, :])
    hinge = torch.clamp(gamma - sign * ds, min=0.0)
    if variant == "margin_all_pairs_sum":
        return hinge.sum()
    if variant == "margin_all_pairs_mean":
        return hinge.sum() / (q * p * p)
    if variant == "margin_distinct_pairs_mean":
        off = 1.0 - torch.eye(p, dtype=s.dtype)
        return (hinge * off).sum() / (q * p * (p - 1))
    pos = (sign > 0).to(s.dtype)
    total = (hinge * pos).sum()
    if variant == "margin_ordered_pos_pairs_sum":
        return total
    return total / torch.clamp(pos.sum(), min=1.0)
