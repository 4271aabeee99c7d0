#!/usr/bin/env python3
"""The peer side of the search benchmark: pylance 14.0.2 on the same data
(scripts/bench/search_data.py) and the same index parameters as omnigraph
(IVF-PQ: round(sqrt(N)) partitions, D/2 sub-vectors of 8 bits, cosine, 50
iterations;
inverted index with positions), queried the way omnigraph queries Lance
(k = 10, refine factor 4, default probing).

Prints `pylance_<case>_ms p50=.. p99=..` lines, `pylance_build_<index>_s`
and `pylance_recall10 ..`; then the same queries through pylance on
omnigraph's own table and index (`pylance_on_omnigraph_...`), when
search_bench built one in DIR.

    target/lance-venv/bin/python scripts/bench/pylance_search.py DIR
"""

import glob
import json
import os
import shutil
import sys
import time

import lance
import numpy as np
import pyarrow as pa
from lance.query import MatchQuery

REFINE = 4


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def report(name, times):
    ms = [t * 1000 for t in times]
    print(f"{name}_ms p50={pct(ms, 50):.2f} p99={pct(ms, 99):.2f}", flush=True)


def main():
    d = sys.argv[1]
    meta = json.load(open(os.path.join(d, "meta.json")))
    n, dim, nq = meta["n"], meta["d"], meta["q"]
    vectors = np.fromfile(os.path.join(d, "vectors.f32"), dtype="<f4").reshape(n, dim)
    queries = np.fromfile(os.path.join(d, "queries.f32"), dtype="<f4").reshape(nq, dim)
    truth = np.fromfile(os.path.join(d, "truth.i32"), dtype="<i4").reshape(nq, 10)
    docs = open(os.path.join(d, "docs.txt")).read().split("\n")[:n]
    terms = [l.strip() for l in open(os.path.join(d, "terms.txt")) if l.strip()]
    uri = os.path.join(d, "pylance.lance")
    shutil.rmtree(uri, ignore_errors=True)
    ids = pa.array([f"d{i}" for i in range(n)])
    table = pa.table({
        "id": ids,
        "category": pa.array([f"c{i % 100}" for i in range(n)]),
        "body": pa.array(docs),
        "embedding": pa.FixedSizeListArray.from_arrays(pa.array(vectors.reshape(-1)), dim),
    })
    ds = lance.write_dataset(table, uri, max_rows_per_file=1 << 20)
    t = time.perf_counter()
    ds.create_index("embedding", "IVF_PQ", name="vec", metric="cosine", num_partitions=min(4096, max(1, round(n ** 0.5))), num_sub_vectors=dim // 2, num_bits=8, max_iterations=50)
    print(f"pylance_build_vector_s {time.perf_counter() - t:.1f}", flush=True)
    t = time.perf_counter()
    ds.create_scalar_index("body", "INVERTED", name="fts", with_position=True)
    print(f"pylance_build_text_s {time.perf_counter() - t:.1f}", flush=True)
    measure(lance.dataset(uri), "pylance", "id", queries, truth, terms)
    # The same queries on omnigraph's own table (its index): the latency
    # difference is then only the engine's.
    ours = glob.glob(os.path.join(d, "omnigraph.db", "nodes", "*"))
    if ours:
        measure(lance.dataset(ours[0]), "pylance_on_omnigraph", "key", queries, truth, terms)


def measure(ds, name, id_col, queries, truth, terms):
    nq = len(queries)

    def nearest(q, flt=None):
        kw = {"filter": flt, "prefilter": True} if flt else {}
        return ds.to_table(columns=[id_col], nearest={"column": "embedding", "q": q, "k": 10, "metric": "cosine", "refine_factor": REFINE}, **kw)

    for q in queries[:10]:
        nearest(q)
    times, hits = [], 0
    for i, q in enumerate(queries):
        t = time.perf_counter()
        r = nearest(q)
        times.append(time.perf_counter() - t)
        got = {int(s[1:]) for s in r.column(id_col).to_pylist()}
        hits += len(got & set(truth[i].tolist()))
    report(f"{name}_nearest", times)
    print(f"{name}_recall10 {hits / (10 * nq):.3f}", flush=True)
    times, short = [], 0
    for i, q in enumerate(queries):
        t = time.perf_counter()
        r = nearest(q, f"category = 'c{i % 100}'")
        times.append(time.perf_counter() - t)
        short += r.num_rows < 10
    report(f"{name}_nearest_filtered", times)
    print(f"{name}_filtered_short {short}", flush=True)
    for w in terms[:10]:
        ds.to_table(columns=[id_col], full_text_query=MatchQuery(w, "body"), limit=10)
    times = []
    for w in terms:
        t = time.perf_counter()
        ds.to_table(columns=[id_col], full_text_query=MatchQuery(w, "body"), limit=10)
        times.append(time.perf_counter() - t)
    report(f"{name}_bm25", times)

if __name__ == "__main__":
    main()
