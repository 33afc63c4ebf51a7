#!/usr/bin/env python3
"""Python faiss reference for the `index` perf suite: the same measurements as suites/index.ts on the same vectors.

Reads row-major float32 files written by the suite, builds Flat and HNSW32 inner-product indexes (and the DPR
L2-augmented HNSW32), times add and search, and prints one JSON object on the last stdout line.
Needs Debian python3-faiss (1.7.3) and numpy.
"""
import argparse
import json
import time

import faiss
import numpy as np


def recall_at(result, truth, k):
    hits = 0
    for r, t in zip(result, truth):
        hits += len(set(r[:k].tolist()) & set(t[:k].tolist()))
    return hits / (len(truth) * k)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--xb", required=True)
    p.add_argument("--xq", required=True)
    p.add_argument("--dim", type=int, required=True)
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--ef", default="16,32,64,128,256,512")
    p.add_argument("--ip-via-l2", action="store_true")
    a = p.parse_args()
    xb = np.fromfile(a.xb, dtype=np.float32).reshape(-1, a.dim)
    xq = np.fromfile(a.xq, dtype=np.float32).reshape(-1, a.dim)
    out = {"faiss": faiss.__version__, "threads": faiss.omp_get_max_threads(), "n": len(xb), "nq": len(xq)}

    flat = faiss.IndexFlatIP(a.dim)
    t = time.perf_counter()
    flat.add(xb)
    out["flat_add_per_s"] = len(xb) / (time.perf_counter() - t)
    t = time.perf_counter()
    _, truth = flat.search(xq, a.k)
    out["flat_search_ms"] = (time.perf_counter() - t) * 1000 / len(xq)

    def sweep(index, queries, prefix):
        for ef in [int(e) for e in a.ef.split(",")]:
            index.hnsw.efSearch = ef
            t = time.perf_counter()
            _, labels = index.search(queries, a.k)
            out[f"{prefix}_ef{ef}_ms"] = (time.perf_counter() - t) * 1000 / len(queries)
            out[f"{prefix}_ef{ef}_recall"] = recall_at(labels, truth, a.k)

    hnsw = faiss.IndexHNSWFlat(a.dim, 32, faiss.METRIC_INNER_PRODUCT)
    t = time.perf_counter()
    hnsw.add(xb)
    out["hnsw_add_per_s"] = len(xb) / (time.perf_counter() - t)
    sweep(hnsw, xq, "hnsw")

    if a.ip_via_l2:
        norms = (xb ** 2).sum(1)
        phi = norms.max()
        aug = np.hstack([xb, np.sqrt(np.maximum(phi - norms, 0))[:, None]]).astype(np.float32)
        hl2 = faiss.IndexHNSWFlat(a.dim + 1, 32)
        t = time.perf_counter()
        hl2.add(aug)
        out["hnsw_l2aug_add_per_s"] = len(xb) / (time.perf_counter() - t)
        sweep(hl2, np.hstack([xq, np.zeros((len(xq), 1), np.float32)]), "hnsw_l2aug")

    print(json.dumps(out))


if __name__ == "__main__":
    main()
