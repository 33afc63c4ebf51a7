"""BERT and FiD's Retriever, transcribed from Hugging Face transformers' modeling_bert.py and FiD's src/model.py:
word + token-type + absolute position embeddings -> LayerNorm; post-LN layers; attention scaled by
1/sqrt(head_dim) with the additive (1 - m) * finfo.min mask (attention_mask=None: no mask at all); exact erf GELU.
Retriever.embed_text: optional projection Linear + LayerNorm(eps 1e-5) on every token, then [CLS], masked mean
or plain mean; score = <q, p> / sqrt(d) against each question's own passages."""
import math

import torch
import torch.nn.functional as F

PROJECTION_EPS = 1e-5  # torch nn.LayerNorm default, as FiD's Retriever.norm

# Checkpoint layouts, tried in this order: FiD Retriever (`model.` + proj/norm), BertForPreTraining, BertModel.
PREFIXES = ("model.", "bert.", "")


def _act(name):
    if name == "gelu":
        return F.gelu  # exact erf GELU
    if name in ("gelu_new", "gelu_pytorch_tanh"):
        return lambda x: 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))
    if name == "relu":
        return F.relu
    raise ValueError(f"hidden_act {name!r} is not supported")


class RetrieverConfig:
    """BertConfig fields plus FiD's RetrieverConfig flags. Absent flags take train_retriever.py's defaults
    (question and passage masks on, mean pooling); projection defaults to whether proj.* weights exist."""

    def __init__(self, raw, has_projection):
        self.vocab_size = raw["vocab_size"]
        self.hidden = raw["hidden_size"]
        self.layers = raw["num_hidden_layers"]
        self.heads = raw["num_attention_heads"]
        self.intermediate = raw["intermediate_size"]
        self.act = _act(raw.get("hidden_act", "gelu"))
        self.max_positions = raw.get("max_position_embeddings", 512)
        self.eps = raw.get("layer_norm_eps", 1e-12)
        pe = raw.get("position_embedding_type", "absolute")
        if pe != "absolute":
            raise ValueError(f"position_embedding_type {pe!r} is not supported")
        proj = raw.get("projection")
        self.projection = has_projection if proj is None else bool(proj)
        self.extract_cls = bool(raw.get("extract_cls", False))
        self.apply_question_mask = bool(raw.get("apply_question_mask", True))
        self.apply_passage_mask = bool(raw.get("apply_passage_mask", True))


def param_names(c, with_pooler):
    names = [
        "embeddings.word_embeddings.weight",
        "embeddings.position_embeddings.weight",
        "embeddings.token_type_embeddings.weight",
        "embeddings.LayerNorm.weight",
        "embeddings.LayerNorm.bias",
    ]
    for i in range(c.layers):
        p = f"encoder.layer.{i}."
        for n in ("query", "key", "value"):
            names += [f"{p}attention.self.{n}.weight", f"{p}attention.self.{n}.bias"]
        for n in ("attention.output.dense", "attention.output.LayerNorm", "intermediate.dense", "output.dense", "output.LayerNorm"):
            names += [f"{p}{n}.weight", f"{p}{n}.bias"]
    if with_pooler:
        names += ["pooler.dense.weight", "pooler.dense.bias"]
    if c.projection:
        names += ["proj.weight", "proj.bias", "norm.weight", "norm.bias"]
    return names


class Retriever:
    """Parameters by canonical name (BertModel names without prefix, plus proj.* / norm.*) and the forward."""

    def __init__(self, raw_config, tensors, source="checkpoint", dtype=torch.float32):
        prefix = next((p for p in PREFIXES if f"{p}embeddings.word_embeddings.weight" in tensors), None)
        if prefix is None:
            raise KeyError(f"{source}: no BERT word embeddings (prefixes 'model.', 'bert.', '')")
        self.prefix = prefix
        self.c = RetrieverConfig(raw_config, "proj.weight" in tensors)
        with_pooler = f"{prefix}pooler.dense.weight" in tensors
        self.params = {}
        for name in param_names(self.c, with_pooler):
            stored = self.stored_name(name)
            alts = [stored]
            if stored.endswith("LayerNorm.weight"):
                alts.append(stored[: -len("weight")] + "gamma")
            if stored.endswith("LayerNorm.bias"):
                alts.append(stored[: -len("bias")] + "beta")
            found = next((tensors[a] for a in alts if a in tensors), None)
            if found is None:
                raise KeyError(f"{source}: missing tensor {stored!r}")
            # The pooler is never used by FiD: it gets no gradient, so AdamW leaves it alone.
            self.params[name] = found.detach().clone().to(dtype).requires_grad_(not name.startswith("pooler."))
        self.dim = self.params["proj.weight"].shape[0] if self.c.projection else self.c.hidden
        self.dtype = dtype

    @classmethod
    def load(cls, directory, dtype=torch.float32):
        from .checkpoint import load_checkpoint

        raw, tensors, source = load_checkpoint(directory)
        return cls(raw, tensors, source, dtype)

    def stored_name(self, name):
        return name if name.startswith(("proj.", "norm.")) else self.prefix + name

    def p(self, name):
        return self.params[name]

    def linear(self, x, name):
        return F.linear(x, self.p(f"{name}.weight"), self.p(f"{name}.bias"))

    def layer_norm(self, x, name, eps):
        return F.layer_norm(x, (x.shape[-1],), self.p(f"{name}.weight"), self.p(f"{name}.bias"), eps)

    def bert(self, ids, mask, token_type_ids=None):
        """BertModel last_hidden_state [N, L, hidden]; mask None = HF attention_mask=None."""
        n, l = ids.shape
        tt = torch.zeros_like(ids) if token_type_ids is None else token_type_ids
        x = (F.embedding(ids, self.p("embeddings.word_embeddings.weight"))
             + F.embedding(tt, self.p("embeddings.token_type_embeddings.weight"))
             + self.p("embeddings.position_embeddings.weight")[:l][None])
        x = self.layer_norm(x, "embeddings.LayerNorm", self.c.eps)
        h, dh = self.c.heads, self.c.hidden // self.c.heads
        ext = 0.0 if mask is None else ((1.0 - mask.to(self.dtype)) * torch.finfo(self.dtype).min)[:, None, None, :]

        def heads(t):
            return t.view(n, l, h, dh).transpose(1, 2)

        for i in range(self.c.layers):
            p = f"encoder.layer.{i}."
            q = heads(self.linear(x, f"{p}attention.self.query"))
            k = heads(self.linear(x, f"{p}attention.self.key"))
            v = heads(self.linear(x, f"{p}attention.self.value"))
            scores = (q @ k.transpose(-1, -2)) / math.sqrt(dh) + ext
            ctx = (F.softmax(scores, dim=-1) @ v).transpose(1, 2).reshape(n, l, -1)
            x = self.layer_norm(self.linear(ctx, f"{p}attention.output.dense") + x, f"{p}attention.output.LayerNorm", self.c.eps)
            inter = self.c.act(self.linear(x, f"{p}intermediate.dense"))
            x = self.layer_norm(self.linear(inter, f"{p}output.dense") + x, f"{p}output.LayerNorm", self.c.eps)
        return x

    def pooler(self, hidden):
        return torch.tanh(self.linear(hidden[:, 0], "pooler.dense"))

    def embed_text(self, ids, mask, apply_mask, extract_cls):
        """FiD Retriever.embed_text."""
        out = self.bert(ids, mask if apply_mask else None)
        if self.c.projection:
            out = self.layer_norm(self.linear(out, "proj"), "norm", PROJECTION_EPS)
        if extract_cls:
            return out[:, 0]
        if apply_mask:
            out = out.masked_fill(~mask.bool()[:, :, None], 0.0)
            return out.sum(dim=1) / mask.sum(dim=1)[:, None]
        return out.mean(dim=1)

    def embed(self, batch, flags=None):
        """Question embeddings [B, d] and passage embeddings [B*n, d] of a batch (flags override the config's)."""
        f = flags or {"apply_question_mask": self.c.apply_question_mask, "apply_passage_mask": self.c.apply_passage_mask,
                      "extract_cls": self.c.extract_cls}
        b, n, lp = batch["passage_ids"].shape
        q = self.embed_text(batch["question_ids"], batch["question_mask"], f["apply_question_mask"], f["extract_cls"])
        p = self.embed_text(batch["passage_ids"].reshape(b * n, lp), batch["passage_mask"].reshape(b * n, lp),
                            f["apply_passage_mask"], f["extract_cls"])
        return q, p

    def named_parameters(self):
        """Stored names (the checkpoint's layout) -> tensors."""
        return {self.stored_name(k): v for k, v in self.params.items()}


def own_scores(q, p):
    """Retriever.forward: score[b, j] = <q_b, p_(b, j)> / sqrt(d)."""
    b, d = q.shape
    return torch.einsum("bd,bid->bi", q, p.view(b, -1, d)) / math.sqrt(d)


def all_scores(q, p):
    """Every question against every passage of the batch: [B, B*n] = Q P^T / sqrt(d)."""
    return q @ p.t() / math.sqrt(q.shape[1])
