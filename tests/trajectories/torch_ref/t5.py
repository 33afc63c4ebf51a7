"""T5 as Fusion-in-Decoder, transcribed from Hugging Face transformers' modeling_t5.py and FiD's src/model.py:
RMS layer norm, pre-norm residual blocks, attention logits q.k^T without 1/sqrt(d_kv), relative position bias
from block 0 of each stack (bidirectional buckets in the encoder, causal in decoder self-attention, none in
cross-attention), additive (1 - m) * finfo.min masks, ReLU or gated gelu_new feed-forward, tied head rescaled by
d_model**-0.5, mean cross-entropy over labels != -100. FiD: each passage is encoded on its own ([B*n, L]), the
outputs are concatenated passage-major ([B, n*L, d]) and the decoder cross-attends all of them."""
import math

import torch
import torch.nn.functional as F


class T5Config:
    def __init__(self, raw, source="config.json"):
        def get(key, default=None):
            v = raw.get(key, default)
            if v is None:
                raise ValueError(f"{source}: missing key {key!r}")
            return v

        self.vocab_size = get("vocab_size")
        self.d_model = get("d_model")
        self.d_kv = get("d_kv")
        self.num_heads = get("num_heads")
        self.d_ff = get("d_ff")
        self.num_layers = get("num_layers")
        self.num_decoder_layers = raw.get("num_decoder_layers") or self.num_layers
        self.num_buckets = get("relative_attention_num_buckets", 32)
        self.max_distance = get("relative_attention_max_distance", 128)
        self.eps = get("layer_norm_epsilon", 1e-6)
        ff = raw.get("feed_forward_proj", "relu")
        # HF: "gated-gelu" means gelu_new (tanh approximation) in a gated unit; FiD-era configs lack the key.
        if ff in ("gated-gelu", "gated-gelu_new"):
            self.gated = True
        elif ff == "relu":
            self.gated = False
        else:
            raise ValueError(f"{source}: feed_forward_proj {ff!r} is not supported (relu, gated-gelu)")
        self.tied = raw.get("tie_word_embeddings", True)
        self.pad_id = raw.get("pad_token_id", 0)
        self.eos_id = raw.get("eos_token_id", 1)
        self.start_id = raw.get("decoder_start_token_id", 0)


def normalize_name(name):
    """Official FiD reader names -> HF names: `module.` (DataParallel), `encoder.encoder.` (EncoderWrapper),
    `.module.` (CheckpointWrapper around each encoder block)."""
    n = name[len("module."):] if name.startswith("module.") else name
    if n.startswith("encoder.encoder."):
        n = n[len("encoder."):]
    return n.replace(".module.", ".")


def param_names(c):
    """Every parameter of T5ForConditionalGeneration in HF names (tied: `shared.weight` is also the head)."""
    names = ["shared.weight"]

    def attn(prefix, with_bias):
        names.extend(f"{prefix}.{w}.weight" for w in "qkvo")
        if with_bias:
            names.append(f"{prefix}.relative_attention_bias.weight")

    def ff(prefix):
        names.extend([f"{prefix}.DenseReluDense.wi_0.weight", f"{prefix}.DenseReluDense.wi_1.weight"] if c.gated
                     else [f"{prefix}.DenseReluDense.wi.weight"])
        names.append(f"{prefix}.DenseReluDense.wo.weight")
        names.append(f"{prefix}.layer_norm.weight")

    for i in range(c.num_layers):
        attn(f"encoder.block.{i}.layer.0.SelfAttention", i == 0)
        names.append(f"encoder.block.{i}.layer.0.layer_norm.weight")
        ff(f"encoder.block.{i}.layer.1")
    names.append("encoder.final_layer_norm.weight")
    for i in range(c.num_decoder_layers):
        attn(f"decoder.block.{i}.layer.0.SelfAttention", i == 0)
        names.append(f"decoder.block.{i}.layer.0.layer_norm.weight")
        attn(f"decoder.block.{i}.layer.1.EncDecAttention", False)
        names.append(f"decoder.block.{i}.layer.1.layer_norm.weight")
        ff(f"decoder.block.{i}.layer.2")
    names.append("decoder.final_layer_norm.weight")
    if not c.tied:
        names.append("lm_head.weight")
    return names


def relative_position_bucket(rel, bidirectional, num_buckets, max_distance):
    """HF T5Attention._relative_position_bucket on an int64 tensor (the log part in float32, as HF)."""
    buckets = torch.zeros_like(rel)
    if bidirectional:
        num_buckets //= 2
        buckets += (rel > 0).to(torch.long) * num_buckets
        rel = torch.abs(rel)
    else:
        rel = -torch.min(rel, torch.zeros_like(rel))
    max_exact = num_buckets // 2
    is_small = rel < max_exact
    large = max_exact + (
        torch.log(rel.float() / max_exact) / math.log(max_distance / max_exact) * (num_buckets - max_exact)
    ).to(torch.long)
    large = torch.min(large, torch.full_like(large, num_buckets - 1))
    return buckets + torch.where(is_small, rel, large)


class FiDT5:
    """Parameters (leaf tensors by HF name) and the FiD forward pass over them."""

    def __init__(self, config, tensors, source="checkpoint", dtype=torch.float32):
        self.c = config
        by_name = {normalize_name(k): v for k, v in tensors.items()}
        self.params = {}
        for name in param_names(config):
            cands = [name]
            if name == "shared.weight":
                cands = ["shared.weight", "encoder.embed_tokens.weight", "decoder.embed_tokens.weight"]
            found = next((by_name[n] for n in cands if n in by_name), None)
            if found is None:
                raise KeyError(f"{source}: missing tensor {name!r}")
            self.params[name] = found.detach().clone().to(dtype).requires_grad_(True)
        self.dtype = dtype

    @classmethod
    def load(cls, directory, dtype=torch.float32):
        from .checkpoint import load_checkpoint

        raw, tensors, source = load_checkpoint(directory)
        return cls(T5Config(raw, source), tensors, source, dtype)

    # -- building blocks ---------------------------------------------------------------------------------------
    def p(self, name):
        return self.params[name]

    def rms_norm(self, x, name):
        var = x.pow(2).mean(-1, keepdim=True)
        return self.p(name) * (x * torch.rsqrt(var + self.c.eps))

    def linear(self, x, name):
        return x @ self.p(name).t()

    def split_heads(self, x):
        n, l, _ = x.shape
        return x.view(n, l, self.c.num_heads, self.c.d_kv).transpose(1, 2)

    def attention(self, prefix, x, kv, bias):
        """Output [N, Lq, d] and the raw logits q.k^T [N, H, Lq, Lk] (before bias and mask)."""
        q = self.split_heads(self.linear(x, f"{prefix}.q.weight"))
        k = self.split_heads(self.linear(kv, f"{prefix}.k.weight"))
        v = self.split_heads(self.linear(kv, f"{prefix}.v.weight"))
        logits = q @ k.transpose(-1, -2)
        probs = F.softmax(logits + bias, dim=-1)
        ctx = (probs @ v).transpose(1, 2).reshape(x.shape[0], x.shape[1], -1)
        return self.linear(ctx, f"{prefix}.o.weight"), logits

    def feed_forward(self, prefix, x):
        d = f"{prefix}.DenseReluDense"
        if self.c.gated:
            h = gelu_new(self.linear(x, f"{d}.wi_0.weight")) * self.linear(x, f"{d}.wi_1.weight")
        else:
            h = F.relu(self.linear(x, f"{d}.wi.weight"))
        return self.linear(h, f"{d}.wo.weight")

    def position_bias(self, name, q_len, k_len, bidirectional):
        ctx = torch.arange(q_len, dtype=torch.long)[:, None]
        mem = torch.arange(k_len, dtype=torch.long)[None, :]
        buckets = relative_position_bucket(mem - ctx, bidirectional, self.c.num_buckets, self.c.max_distance)
        values = F.embedding(buckets, self.p(name))  # [q, k, H]
        return values.permute(2, 0, 1).unsqueeze(0)

    def additive_mask(self, mask):
        return (1.0 - mask.to(self.dtype)) * torch.finfo(self.dtype).min

    # -- the model ---------------------------------------------------------------------------------------------
    def encode(self, ids, mask):
        """T5 encoder on [N, L] -> [N, L, d] (after final_layer_norm)."""
        n, l = ids.shape
        h = F.embedding(ids, self.p("shared.weight"))
        bias = self.position_bias("encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight", l, l, True)
        bias = bias + self.additive_mask(mask)[:, None, None, :]
        for i in range(self.c.num_layers):
            b = f"encoder.block.{i}"
            x = self.rms_norm(h, f"{b}.layer.0.layer_norm.weight")
            h = h + self.attention(f"{b}.layer.0.SelfAttention", x, x, bias)[0]
            h = h + self.feed_forward(f"{b}.layer.1", self.rms_norm(h, f"{b}.layer.1.layer_norm.weight"))
        return self.rms_norm(h, "encoder.final_layer_norm.weight")

    def fid_encode(self, input_ids, attention_mask):
        """[B, n, L] ids/mask -> encoder states [B, n*L, d] and the flat mask [B, n*L] (FiD's EncoderWrapper)."""
        b, n, l = input_ids.shape
        h = self.encode(input_ids.reshape(b * n, l), attention_mask.reshape(b * n, l))
        return h.reshape(b, n * l, -1), attention_mask.reshape(b, n * l)

    def decode(self, dec_ids, enc, enc_mask):
        """Decoder output [B, T, d] (after final_layer_norm) and per layer the cross logits [B, H, T, S]."""
        b, t = dec_ids.shape
        h = F.embedding(dec_ids, self.p("shared.weight"))
        causal = torch.tril(torch.ones(t, t, dtype=self.dtype))
        self_bias = self.position_bias("decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight", t, t, False)
        self_bias = self_bias + self.additive_mask(causal)[None, None]
        cross_bias = self.additive_mask(enc_mask)[:, None, None, :]
        cross_logits = []
        for i in range(self.c.num_decoder_layers):
            blk = f"decoder.block.{i}"
            x = self.rms_norm(h, f"{blk}.layer.0.layer_norm.weight")
            h = h + self.attention(f"{blk}.layer.0.SelfAttention", x, x, self_bias)[0]
            x = self.rms_norm(h, f"{blk}.layer.1.layer_norm.weight")
            out, logits = self.attention(f"{blk}.layer.1.EncDecAttention", x, enc, cross_bias)
            cross_logits.append(logits)
            h = h + out
            h = h + self.feed_forward(f"{blk}.layer.2", self.rms_norm(h, f"{blk}.layer.2.layer_norm.weight"))
        return self.rms_norm(h, "decoder.final_layer_norm.weight"), cross_logits

    def lm_logits(self, h):
        if self.c.tied:
            return (h * self.c.d_model ** -0.5) @ self.p("shared.weight").t()
        return h @ self.p("lm_head.weight").t()

    def shift_right(self, labels):
        dec = torch.full_like(labels, self.c.start_id)
        dec[:, 1:] = labels[:, :-1]
        return dec.masked_fill(dec == -100, self.c.pad_id)

    def forward(self, input_ids, attention_mask, labels, decoder_input_ids=None):
        enc, enc_mask = self.fid_encode(input_ids, attention_mask)
        dec = self.shift_right(labels) if decoder_input_ids is None else decoder_input_ids
        h, cross = self.decode(dec, enc, enc_mask)
        logits = self.lm_logits(h)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1), ignore_index=-100)
        return {"encoder": enc, "encoder_mask": enc_mask, "decoder": h, "logits": logits, "cross_logits": cross, "loss": loss}

    def loss(self, batch):
        return self.forward(batch["input_ids"], batch["attention_mask"], batch["labels"])["loss"]

    def passage_scores(self, input_ids, attention_mask, post_softmax=False):
        """FiDT5.get_crossattention_scores: first decoding step's cross-attention (pre-softmax by default), padded
        tokens zeroed, summed over heads, layers and tokens, divided by (real tokens * layers * heads)."""
        b, n, l = input_ids.shape
        enc, enc_mask = self.fid_encode(input_ids, attention_mask)
        start = torch.full((b, 1), self.c.start_id, dtype=torch.long)
        _, cross = self.decode(start, enc, enc_mask)
        maps = []
        for logits in cross:
            x = logits + self.additive_mask(enc_mask)[:, None, None, :]
            maps.append(F.softmax(x, dim=-1) if post_softmax else x)
        scores = torch.cat(maps, dim=2)  # [B, H, layers, S]
        scores = scores.view(b, self.c.num_heads, len(cross), n, l)
        scores = scores.masked_fill(~attention_mask.bool()[:, None, None], 0.0)
        ntokens = attention_mask.sum(dim=2) * len(cross) * self.c.num_heads
        return scores.sum(dim=[1, 2, 4]) / ntokens

    def generate(self, input_ids, attention_mask, max_new_tokens):
        """Greedy decoding (HF generate, num_beams 1): ids [B, 1 + steps] and per step the top-1 minus top-2 logit."""
        enc, enc_mask = self.fid_encode(input_ids, attention_mask)
        b = input_ids.shape[0]
        ids = torch.full((b, 1), self.c.start_id, dtype=torch.long)
        done = torch.zeros(b, dtype=torch.bool)
        margins = []
        for _ in range(max_new_tokens):
            h, _ = self.decode(ids, enc, enc_mask)
            logits = self.lm_logits(h[:, -1])
            top = torch.topk(logits, 2, dim=-1).values
            margins.append(top[:, 0] - top[:, 1])
            nxt = torch.where(done, torch.full_like(done, self.c.pad_id, dtype=torch.long), logits.argmax(-1))
            ids = torch.cat([ids, nxt[:, None]], dim=1)
            done = done | (nxt == self.c.eos_id)
            if bool(done.all()):
                break
        return ids, torch.stack(margins) if margins else torch.zeros(0, b)

    def named_parameters(self):
        """HF names -> tensors, as the model's state dict lists them (tied: no lm_head)."""
        return dict(self.params)


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))
