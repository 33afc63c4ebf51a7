"""PyTorch reference for the retriever suite (src/suites/retriever.ts): a BERT bi-encoder written in plain torch
(HF BertModel semantics: word + position + token-type embeddings -> LayerNorm, post-LN layers, erf GELU, additive
finfo.min mask; masked-mean pooling; score <q, p>/sqrt(d); FiD's KL loss; AdamW), since `transformers` is not
installed here. Measures
  * embed: passages/s of no-grad passage embedding, batches of --embed-batch passages of --plen real tokens;
  * step:  seconds per retriever training step (forward + backward + AdamW) on --questions questions of --qlen
           tokens with --n-context passages each of --plen tokens.
Prints one JSON line: {"embed_passages_per_s", "embed_samples", "step_seconds", "step_samples", "threads", "torch",
"embed_peak_rss_mb"} (the process's peak RSS after building the model and embedding, before the training step).
"""
import argparse
import json
import math
import statistics
import time

import torch
import torch.nn.functional as F

from peak_rss import peak_rss_mb


def make_params(vocab, hidden, layers, ffn, max_pos, type_vocab):
    g = torch.Generator().manual_seed(0)

    def w(*shape):
        return (torch.randn(*shape, generator=g) * 0.02).requires_grad_()

    def z(*shape):
        return torch.zeros(*shape, requires_grad=True)

    def o(*shape):
        return torch.ones(*shape, requires_grad=True)

    p = {"word": w(vocab, hidden), "pos": w(max_pos, hidden), "type": w(type_vocab, hidden),
         "emb_ln_g": o(hidden), "emb_ln_b": z(hidden), "layers": []}
    for _ in range(layers):
        p["layers"].append({
            "q_w": w(hidden, hidden), "q_b": z(hidden), "k_w": w(hidden, hidden), "k_b": z(hidden),
            "v_w": w(hidden, hidden), "v_b": z(hidden), "o_w": w(hidden, hidden), "o_b": z(hidden),
            "ln1_g": o(hidden), "ln1_b": z(hidden), "i_w": w(ffn, hidden), "i_b": z(ffn),
            "f_w": w(hidden, ffn), "f_b": z(hidden), "ln2_g": o(hidden), "ln2_b": z(hidden),
        })
    return p


def all_params(p):
    out = [p["word"], p["pos"], p["type"], p["emb_ln_g"], p["emb_ln_b"]]
    for lp in p["layers"]:
        out.extend(lp.values())
    return out


def bert(p, ids, mask, heads, eps=1e-12):
    n, length = ids.shape
    hidden = p["word"].shape[1]
    dh = hidden // heads
    x = p["word"][ids] + p["pos"][:length][None] + p["type"][0][None, None]
    x = F.layer_norm(x, (hidden,), p["emb_ln_g"], p["emb_ln_b"], eps)
    bias = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
    for lp in p["layers"]:
        def heads_of(t):
            return t.view(n, length, heads, dh).transpose(1, 2)
        q = heads_of(F.linear(x, lp["q_w"], lp["q_b"]))
        k = heads_of(F.linear(x, lp["k_w"], lp["k_b"]))
        v = heads_of(F.linear(x, lp["v_w"], lp["v_b"]))
        probs = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(dh) + bias, dim=-1)
        ctx = (probs @ v).transpose(1, 2).reshape(n, length, hidden)
        x = F.layer_norm(F.linear(ctx, lp["o_w"], lp["o_b"]) + x, (hidden,), lp["ln1_g"], lp["ln1_b"], eps)
        inter = F.gelu(F.linear(x, lp["i_w"], lp["i_b"]))
        x = F.layer_norm(F.linear(inter, lp["f_w"], lp["f_b"]) + x, (hidden,), lp["ln2_g"], lp["ln2_b"], eps)
    return x


def embed(p, ids, mask, heads):
    h = bert(p, ids, mask, heads)
    m = mask[:, :, None].float()
    return (h * m).sum(1) / m.sum(1)


def main():
    a = argparse.ArgumentParser()
    a.add_argument("--vocab", type=int, default=30522)
    a.add_argument("--hidden", type=int, default=768)
    a.add_argument("--layers", type=int, default=12)
    a.add_argument("--heads", type=int, default=12)
    a.add_argument("--ffn", type=int, default=3072)
    a.add_argument("--plen", type=int, default=200)
    a.add_argument("--qlen", type=int, default=40)
    a.add_argument("--embed-batch", type=int, default=8)
    a.add_argument("--questions", type=int, default=2)
    a.add_argument("--n-context", type=int, default=4)
    a.add_argument("--reps", type=int, default=3)
    a.add_argument("--threads", type=int, default=2)
    args = a.parse_args()
    torch.set_num_threads(args.threads)
    p = make_params(args.vocab, args.hidden, args.layers, args.ffn, 512, 2)
    gen = torch.Generator().manual_seed(1)

    def batch(n, length):
        ids = torch.randint(4, args.vocab, (n, length), generator=gen)
        return ids, torch.ones(n, length, dtype=torch.long)

    pids, pmask = batch(args.embed_batch, args.plen)
    embed_samples = []
    with torch.no_grad():
        embed(p, pids, pmask, args.heads)  # warm-up
        for _ in range(args.reps):
            t0 = time.perf_counter()
            embed(p, pids, pmask, args.heads)
            embed_samples.append(args.embed_batch / (time.perf_counter() - t0))
    embed_peak_rss = peak_rss_mb()  # model + embedding only: the training step below comes later

    params = all_params(p)
    opt = torch.optim.AdamW(params, lr=1e-4, weight_decay=0.1)
    qids, qmask = batch(args.questions, args.qlen)
    tids, tmask = batch(args.questions * args.n_context, args.plen)
    gold = torch.randn(args.questions, args.n_context, generator=gen)

    def step():
        opt.zero_grad()
        q = embed(p, qids, qmask, args.heads)
        ps = embed(p, tids, tmask, args.heads).view(args.questions, args.n_context, -1)
        s = torch.einsum("bd,bid->bi", q, ps) / math.sqrt(q.shape[-1])
        loss = torch.nn.KLDivLoss()(F.log_softmax(s, -1), torch.softmax(gold, -1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()

    step()  # warm-up
    step_samples = []
    for _ in range(args.reps):
        t0 = time.perf_counter()
        step()
        step_samples.append(time.perf_counter() - t0)
    print(json.dumps({
        "embed_passages_per_s": statistics.median(embed_samples), "embed_samples": embed_samples,
        "step_seconds": statistics.median(step_samples), "step_samples": step_samples,
        "threads": args.threads, "torch": torch.__version__, "embed_peak_rss_mb": embed_peak_rss,
    }))


if __name__ == "__main__":
    main()
