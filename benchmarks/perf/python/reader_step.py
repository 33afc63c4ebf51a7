#!/usr/bin/env python3
"""PyTorch reference for the fidkd reader perf suite: a T5 used as Fusion-in-Decoder, written with plain torch
(transformers is not installed here), the same computation as @fidkd/fid-reader:
 - train step: encoder over [B*n, L], passage-major concat, decoder with teacher forcing, mean token CE,
   backward, AdamW step;
 - generation: encoder once, cross-attention keys/values reused, greedy decoding of --new-tokens steps
   recomputing the decoder prefix (as the tfjs reader does; no self-attention KV cache).
--dec-layers sets the decoder depth (default: --layers), --clip a gradient-norm clip, --new-tokens 0 skips
generation (generate_seconds null).
Prints one JSON line: {"train_seconds", "generate_seconds", "train_peak_rss_mb", "tokens_per_step", "threads", "torch"}
(train_peak_rss_mb: the process's peak RSS after building the model and the training steps, before generation)."""
import argparse, json, math, time
import torch
import torch.nn as nn
import torch.nn.functional as F

from peak_rss import peak_rss_mb


def bucket(rp, bidirectional, nb, maxd):
    ret = torch.zeros_like(rp)
    if bidirectional:
        nb //= 2
        ret += (rp > 0).long() * nb
        rp = rp.abs()
    else:
        rp = -torch.min(rp, torch.zeros_like(rp))
    me = nb // 2
    large = me + (torch.log(rp.float().clamp(min=1) / me) / math.log(maxd / me) * (nb - me)).long()
    large = torch.min(large, torch.full_like(large, nb - 1))
    return ret + torch.where(rp < me, rp, large)


class Norm(nn.Module):
    def __init__(self, d, eps=1e-6):
        super().__init__()
        self.w = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        return self.w * x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)


class Attn(nn.Module):
    def __init__(self, d, h, dkv):
        super().__init__()
        self.h, self.dkv = h, dkv
        self.q = nn.Linear(d, h * dkv, bias=False)
        self.k = nn.Linear(d, h * dkv, bias=False)
        self.v = nn.Linear(d, h * dkv, bias=False)
        self.o = nn.Linear(h * dkv, d, bias=False)

    def split(self, x):
        return x.view(x.shape[0], -1, self.h, self.dkv).transpose(1, 2)

    def kv(self, x):
        return self.split(self.k(x)), self.split(self.v(x))

    def forward(self, x, kv, bias):
        q = self.split(self.q(x))
        s = q @ kv[0].transpose(-1, -2) + bias
        ctx = (s.softmax(-1) @ kv[1]).transpose(1, 2).reshape(x.shape[0], -1, self.h * self.dkv)
        return self.o(ctx)


class FF(nn.Module):
    def __init__(self, d, dff):
        super().__init__()
        self.wi = nn.Linear(d, dff, bias=False)
        self.wo = nn.Linear(dff, d, bias=False)

    def forward(self, x):
        return self.wo(F.relu(self.wi(x)))


class Block(nn.Module):
    def __init__(self, a, decoder):
        super().__init__()
        self.sa, self.n0 = Attn(a.d, a.heads, a.dkv), Norm(a.d)
        self.decoder = decoder
        if decoder:
            self.ca, self.n1 = Attn(a.d, a.heads, a.dkv), Norm(a.d)
        self.ff, self.n2 = FF(a.d, a.dff), Norm(a.d)

    def forward(self, x, bias, cross=None, cross_bias=None):
        n = self.n0(x)
        x = x + self.sa(n, self.sa.kv(n), bias)
        if self.decoder:
            x = x + self.ca(self.n1(x), cross, cross_bias)
        return x + self.ff(self.n2(x))


class T5(nn.Module):
    def __init__(self, a):
        super().__init__()
        self.a = a
        self.shared = nn.Embedding(a.vocab, a.d)
        self.enc = nn.ModuleList([Block(a, False) for _ in range(a.layers)])
        self.dec = nn.ModuleList([Block(a, True) for _ in range(a.dec_layers or a.layers)])
        self.enc_rel = nn.Embedding(32, a.heads)
        self.dec_rel = nn.Embedding(32, a.heads)
        self.enc_norm, self.dec_norm = Norm(a.d), Norm(a.d)

    def pos_bias(self, emb, lq, lk, bidirectional):
        rp = torch.arange(lk)[None, :] - torch.arange(lq)[:, None]
        return emb(bucket(rp, bidirectional, 32, 128)).permute(2, 0, 1)[None]

    def encode(self, ids, mask):
        b, n, l = ids.shape
        x = self.shared(ids.view(b * n, l))
        bias = self.pos_bias(self.enc_rel, l, l, True) + (1 - mask.view(b * n, 1, 1, l).float()) * torch.finfo(torch.float32).min
        for blk in self.enc:
            x = blk(x, bias)
        return self.enc_norm(x).view(b, n * l, -1), mask.view(b, 1, 1, n * l)

    def decode(self, dec_ids, cross, cmask):
        t = dec_ids.shape[1]
        x = self.shared(dec_ids)
        causal = torch.triu(torch.full((t, t), torch.finfo(torch.float32).min), 1)
        bias = self.pos_bias(self.dec_rel, t, t, False) + causal
        cbias = (1 - cmask.float()) * torch.finfo(torch.float32).min
        for blk, kv in zip(self.dec, cross):
            x = blk(x, bias, kv, cbias)
        return self.dec_norm(x)

    def logits(self, h):
        return (h * self.a.d ** -0.5) @ self.shared.weight.t()


def main():
    p = argparse.ArgumentParser()
    for k, v in dict(batch=1, n=10, L=200, T=16, d=512, dkv=64, heads=8, dff=2048, layers=6, vocab=32128,
                     reps=3, threads=2, new_tokens=20, dec_layers=0).items():
        p.add_argument('--' + k.replace('_', '-'), type=int, default=v)
    p.add_argument('--clip', type=float, default=0.0, help='global gradient-norm clip (0 = none)')
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    m = T5(a)
    opt = torch.optim.AdamW(m.parameters(), lr=1e-4)
    ids = torch.randint(2, a.vocab, (a.batch, a.n, a.L))
    mask = torch.ones_like(ids)
    labels = torch.randint(2, a.vocab, (a.batch, a.T))
    dec_in = torch.cat([torch.zeros(a.batch, 1, dtype=torch.long), labels[:, :-1]], 1)

    def step():
        opt.zero_grad()
        h, cm = m.encode(ids, mask)
        cross = [blk.ca.kv(h) for blk in m.dec]
        out = m.logits(m.decode(dec_in, cross, cm))
        loss = F.cross_entropy(out.view(-1, a.vocab), labels.view(-1), ignore_index=-100)
        loss.backward()
        if a.clip > 0:
            torch.nn.utils.clip_grad_norm_(m.parameters(), a.clip)
        opt.step()

    @torch.no_grad()
    def generate():
        h, cm = m.encode(ids, mask)
        cross = [blk.ca.kv(h) for blk in m.dec]
        cur = torch.zeros(a.batch, 1, dtype=torch.long)
        for _ in range(a.new_tokens):
            nxt = m.logits(m.decode(cur, cross, cm)[:, -1]).argmax(-1)
            cur = torch.cat([cur, nxt[:, None]], 1)
        return cur

    def timed(f):
        f()
        xs = []
        for _ in range(a.reps):
            t0 = time.perf_counter()
            f()
            xs.append(time.perf_counter() - t0)
        return sorted(xs)[len(xs) // 2]

    train = timed(step)
    train_peak_rss = peak_rss_mb()  # model + training steps only: generation comes later
    gen = timed(generate) if a.new_tokens > 0 else None
    print(json.dumps({"train_seconds": train, "generate_seconds": gen, "train_peak_rss_mb": train_peak_rss, "tokens_per_step": a.batch * a.n * a.L,
                      "threads": a.threads, "torch": torch.__version__}))


if __name__ == '__main__':
    main()
