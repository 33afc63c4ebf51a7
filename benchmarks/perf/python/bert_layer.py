"""PyTorch reference for the bert-layer suite: one BERT-base encoder layer (post-LN, GELU(erf), dropout off)
forward + backward, the same ops as src/bert-layer-model.ts. Prints one JSON line:
{"seconds": median seconds per step, "samples": [...], "threads": n, "torch": version}."""
import argparse
import json
import math
import time

import torch


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--seq", type=int, default=128)
    p.add_argument("--hidden", type=int, default=768)
    p.add_argument("--heads", type=int, default=12)
    p.add_argument("--ffn", type=int, default=3072)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    B, L, H, N, F = a.batch, a.seq, a.hidden, a.heads, a.ffn
    D = H // N

    def w(*shape):
        return (torch.randn(*shape) * 0.02).requires_grad_()

    params = {
        "q_w": w(H, H), "k_w": w(H, H), "v_w": w(H, H), "o_w": w(H, H), "i_w": w(H, F), "f_w": w(F, H),
        **{n: torch.zeros(s, requires_grad=True) for n, s in
           [("q_b", H), ("k_b", H), ("v_b", H), ("o_b", H), ("i_b", F), ("f_b", H), ("ln1_b", H), ("ln2_b", H)]},
        "ln1_g": torch.ones(H, requires_grad=True), "ln2_g": torch.ones(H, requires_grad=True),
    }
    x = torch.randn(B, L, H, requires_grad=True)
    mask = torch.zeros(B, 1, 1, L)
    dy = torch.randn(B, L, H)

    def forward():
        P = params
        x2 = x.reshape(B * L, H)

        def proj(n):
            return (x2 @ P[n + "_w"] + P[n + "_b"]).reshape(B, L, N, D).permute(0, 2, 1, 3)

        q, k, v = proj("q"), proj("k"), proj("v")
        scores = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(D)) + mask
        probs = torch.softmax(scores, dim=-1)
        ctx = (probs @ v).permute(0, 2, 1, 3).reshape(B * L, H)
        h1 = torch.nn.functional.layer_norm(ctx @ P["o_w"] + P["o_b"] + x2, (H,), P["ln1_g"], P["ln1_b"], 1e-12)
        inter = torch.nn.functional.gelu(h1 @ P["i_w"] + P["i_b"])
        h2 = torch.nn.functional.layer_norm(inter @ P["f_w"] + P["f_b"] + h1, (H,), P["ln2_g"], P["ln2_b"], 1e-12)
        return h2.reshape(B, L, H)

    def step():
        for t in list(params.values()) + [x]:
            t.grad = None
        loss = (forward() * dy).sum()
        loss.backward()
        return loss.item()

    step()  # warm-up
    samples = []
    for _ in range(a.reps):
        t0 = time.perf_counter()
        step()
        samples.append(time.perf_counter() - t0)
    s = sorted(samples)
    med = s[len(s) // 2] if len(s) % 2 else 0.5 * (s[len(s) // 2 - 1] + s[len(s) // 2])
    print(json.dumps({"seconds": med, "samples": samples, "threads": torch.get_num_threads(), "torch": torch.__version__}))


if __name__ == "__main__":
    main()
