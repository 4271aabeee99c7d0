#!/usr/bin/env python3
"""Data for the search benchmark (fixed seed), into DIR:

- vectors.f32: N x D float32, little-endian, row-major; N vectors in 1,000
  Gaussian clusters (random centres, spread 0.25 of the centres' scale);
- queries.f32: Q x D query vectors drawn the same way;
- truth.i32: Q x 10 exact cosine top-10 row numbers per query (brute force);
- docs.txt: N short documents, one per line (8-16 words from a 20,000-word
  vocabulary, Zipf-distributed like real text);
- terms.txt: Q two-word text queries (mid-frequency words);
- meta.json: N, D, Q.

Row i has category `c{i % 100}` (a filter that keeps 1% of the rows).

    python3 scripts/bench/search_data.py DIR [N] [D]
"""

import json
import os
import sys

import numpy as np


def main():
    out = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
    d = int(sys.argv[3]) if len(sys.argv) > 3 else 128
    q = 100
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(20261207)
    centres = rng.standard_normal((1000, d)).astype(np.float32)
    which = rng.integers(0, 1000, n)
    vectors = centres[which] + 0.25 * rng.standard_normal((n, d)).astype(np.float32)
    vectors.astype("<f4").tofile(os.path.join(out, "vectors.f32"))
    queries = centres[rng.integers(0, 1000, q)] + 0.25 * rng.standard_normal((q, d)).astype(np.float32)
    queries.astype("<f4").tofile(os.path.join(out, "queries.f32"))
    # Exact cosine top-10, in blocks.
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    qu = queries / np.linalg.norm(queries, axis=1, keepdims=True)
    best = np.zeros((q, 10), dtype=np.int32)
    sims = np.full((q, 10), -np.inf, dtype=np.float32)
    block = 100_000
    for start in range(0, n, block):
        s = qu @ unit[start:start + block].T
        idx = np.argpartition(-s, 10, axis=1)[:, :10] if s.shape[1] > 10 else np.tile(np.arange(s.shape[1]), (q, 1))
        cand_s = np.take_along_axis(s, idx, axis=1)
        all_s = np.concatenate([sims, cand_s], axis=1)
        all_i = np.concatenate([best, idx + start], axis=1)
        order = np.argsort(-all_s, axis=1)[:, :10]
        sims = np.take_along_axis(all_s, order, axis=1)
        best = np.take_along_axis(all_i, order, axis=1).astype(np.int32)
    best.astype("<i4").tofile(os.path.join(out, "truth.i32"))
    # Documents.
    vocab = np.array([f"w{i}" for i in range(20_000)])
    ranks = np.arange(1, 20_001)
    p = 1.0 / ranks
    p /= p.sum()
    lengths = rng.integers(8, 17, n)
    words = rng.choice(20_000, size=int(lengths.sum()), p=p)
    with open(os.path.join(out, "docs.txt"), "w") as f:
        at = 0
        for L in lengths:
            f.write(" ".join(vocab[words[at:at + L]]))
            f.write("\n")
            at += L
    with open(os.path.join(out, "terms.txt"), "w") as f:
        for a, b in rng.integers(100, 3000, (q, 2)):
            f.write(f"w{a} w{b}\n")
    json.dump({"n": n, "d": d, "q": q}, open(os.path.join(out, "meta.json"), "w"))


if __name__ == "__main__":
    main()
