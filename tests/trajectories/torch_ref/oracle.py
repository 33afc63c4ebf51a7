"""Reproduces the oracle fixtures (fixtures/oracle: outputs of Hugging Face transformers and the official FiD code
for tiny random checkpoints) with this reference: every field of each expected.json, in float64 (the fixtures'
own precision: a wrong epsilon or a missing scale shows here) and in float32 (the precision of the trajectories)."""
import json
import os

import torch

from .bert import Retriever, own_scores
from .losses import VARIANTS, distillation_loss
from .t5 import FiDT5, relative_position_bucket

# Largest |reference - expected| / max(1, |expected|) accepted per precision.
TOLERANCE = {torch.float64: 1e-12, torch.float32: 1e-4}


def _tensor(field, dtype=None):
    if field["dtype"] in ("int64", "bool"):
        return torch.tensor(field["data"], dtype=torch.long).reshape(field["shape"])
    # float64 first: torch.tensor of Python floats would round them to float32
    return torch.tensor(field["data"], dtype=torch.float64).reshape(field["shape"]).to(dtype or torch.float64)


class Report:
    def __init__(self):
        self.rows = []

    def compare(self, fixture, field, actual, expected, dtype):
        exp = _tensor(expected) if isinstance(expected, dict) else torch.tensor(float(expected), dtype=torch.float64)
        act = actual.detach().to(torch.float64) if torch.is_tensor(actual) else torch.tensor(float(actual), dtype=torch.float64)
        if tuple(act.shape) != tuple(exp.shape):
            self.rows.append({"fixture": fixture, "field": field, "dtype": str(dtype), "ok": False,
                              "error": f"shape {list(act.shape)} vs expected {list(exp.shape)}"})
            return
        err = ((act - exp).abs() / exp.abs().clamp(min=1.0)).max().item() if exp.numel() else 0.0
        self.rows.append({"fixture": fixture, "field": field, "dtype": str(dtype).replace("torch.", ""),
                          "max_scaled_error": err, "ok": err <= TOLERANCE[dtype]})

    @property
    def ok(self):
        return all(r["ok"] for r in self.rows)


def _load(directory, name):
    with open(os.path.join(directory, name), encoding="utf-8") as f:
        return json.load(f)


def check_reader(report, fixture_dir, inputs_dir, label, dtype):
    inp = _load(inputs_dir, "inputs.json")
    exp = _load(inputs_dir, "expected.json")
    m = FiDT5.load(fixture_dir, dtype)
    ids, mask, labels = _tensor(inp["input_ids"]), _tensor(inp["attention_mask"]), _tensor(inp["labels"])
    b, n, l = ids.shape
    c = m.c
    with torch.no_grad():
        out = m.forward(ids, mask, labels, _tensor(inp["decoder_input_ids"]))
        cmp = lambda field, value: report.compare(label, field, value, exp[field], dtype)
        cmp("encoder_last_hidden_state", out["encoder"])
        cmp("encoder_attention_mask_flat", out["encoder_mask"])
        cmp("decoder_last_hidden_state", out["decoder"])
        cmp("logits", out["logits"])
        cmp("loss", out["loss"])
        per_token = torch.nn.functional.cross_entropy(out["logits"].reshape(-1, c.vocab_size), labels.reshape(-1),
                                                      ignore_index=-100, reduction="none").reshape(labels.shape)
        cmp("loss_per_token", per_token)
        first = torch.stack([x[:, :, 0] for x in out["cross_logits"]], dim=1)  # [B, layers, H, S]
        cmp("cross_attention_logits_first_position", first)
        cmp("cross_attention_probs_first_position", torch.softmax(first + m.additive_mask(out["encoder_mask"])[:, None, None], dim=-1))
        cmp("fid_passage_scores", m.passage_scores(ids, mask))
        cmp("fid_passage_scores_postsoftmax", m.passage_scores(ids, mask, post_softmax=True))
        gen, margins = m.generate(ids, mask, inp["max_new_tokens"])
        cmp("generated_ids", gen)
        cmp("generation_top1_top2_margin", margins)
        rel = _tensor(exp["relative_positions"])
        cmp("relative_position_buckets_bidirectional", relative_position_bucket(rel, True, c.num_buckets, c.max_distance))
        cmp("relative_position_buckets_unidirectional", relative_position_bucket(rel, False, c.num_buckets, c.max_distance))
        cmp("encoder_position_bias", m.position_bias("encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight", l, l, True)[0])
        t = labels.shape[1]
        cmp("decoder_self_position_bias", m.position_bias("decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight", t, t, False)[0])


def check_retriever(report, fixture_dir, dtype):
    label = os.path.basename(os.path.normpath(fixture_dir))
    inp = _load(fixture_dir, "inputs.json")
    exp = _load(fixture_dir, "expected.json")
    m = Retriever.load(fixture_dir, dtype)
    qi, qm = _tensor(inp["question_ids"]), _tensor(inp["question_mask"])
    pi, pm = _tensor(inp["passage_ids"]), _tensor(inp["passage_mask"])
    b, n, lp = pi.shape
    pif, pmf = pi.reshape(b * n, lp), pm.reshape(b * n, lp)
    cmp = lambda field, value: report.compare(label, field, value, exp[field], dtype)
    with torch.no_grad():
        qh = m.bert(qi, qm)
        cmp("question_last_hidden_state", qh)
        cmp("question_last_hidden_state_no_mask", m.bert(qi, None))
        cmp("question_last_hidden_state_with_token_types", m.bert(qi, qm, _tensor(inp["question_token_type_ids"])))
        cmp("question_pooler_output", m.pooler(qh))
        cmp("question_cls", qh[:, 0])
        mean = lambda h, mk: (h * mk[:, :, None]).sum(1) / mk.sum(1)[:, None]
        cmp("question_masked_mean", mean(qh, qm))
        ph = m.bert(pif, pmf)
        cmp("passage_last_hidden_state", ph)
        cmp("passage_cls", ph[:, 0])
        cmp("passage_masked_mean", mean(ph, pmf))
        batch = {"question_ids": qi, "question_mask": qm, "passage_ids": pi, "passage_mask": pm}
        scores = {}
        for name, flags in inp["retriever_variants"].items():
            q, p = m.embed(batch, flags)
            scores[name] = own_scores(q, p)
            cmp(f"retriever_{name}_question_embedding", q)
            cmp(f"retriever_{name}_passage_embedding", p)
            cmp(f"retriever_{name}_scores", scores[name])
    gold = _tensor(inp["gold_scores"], dtype)
    for variant in VARIANTS:
        s = scores[inp["loss_scores_variant"]].detach().clone().requires_grad_(True)
        value = distillation_loss(s, gold, variant, gamma=inp["margin_gamma"])
        value.backward()
        report.compare(label, f"losses.{variant}.value", value, exp["losses"][variant]["value"], dtype)
        report.compare(label, f"losses.{variant}.grad_wrt_scores", s.grad, exp["losses"][variant]["grad_wrt_scores"], dtype)


def check_losses(report, fixture_dir, dtype):
    inp = _load(fixture_dir, "inputs.json")["cases"]
    exp = _load(fixture_dir, "expected.json")["cases"]
    for case, e in zip(inp, exp):
        label = f"losses/{case['name']}"
        g = _tensor(case["gold_scores"], dtype)
        tg, ts = case["temperature_gold"], case["temperature_score"]
        report.compare(label, "softmax_gold", torch.softmax(g / tg, dim=-1), e["softmax_gold"], dtype)
        report.compare(label, "log_softmax_scores", torch.log_softmax(_tensor(case["scores"], dtype) / ts, dim=-1), e["log_softmax_scores"], dtype)
        for variant in VARIANTS:
            s = _tensor(case["scores"], dtype).requires_grad_(True)
            value = distillation_loss(s, g, variant, gamma=case["gamma"], temperature_gold=tg, temperature_score=ts)
            value.backward()
            report.compare(label, f"{variant}.value", value, e[variant]["value"], dtype)
            report.compare(label, f"{variant}.grad_wrt_scores", s.grad, e[variant]["grad_wrt_scores"], dtype)


def check_all(root):
    """Every fixture under `root` (fixtures/oracle), in float64 and float32."""
    report = Report()
    for dtype in (torch.float64, torch.float32):
        check_reader(report, os.path.join(root, "t5-relu-tied"), os.path.join(root, "t5-relu-tied"), "t5-relu-tied", dtype)
        official = os.path.join(root, "t5-fid-official-names")
        if os.path.isdir(official):
            check_reader(report, official, os.path.join(root, "t5-relu-tied"), "t5-fid-official-names", dtype)
        for name in ("bert-tiny", "bert-tiny-prefixed"):
            check_retriever(report, os.path.join(root, name), dtype)
        check_losses(report, os.path.join(root, "losses"), dtype)
    return report
