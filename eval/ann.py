"""Approximate (HNSW) against exact dense search on SciFact: recall@10 of the passages HNSW
returns against exact search's, nDCG@10 per setting, dense search latency, HNSW build time.

    .venv/bin/python -m eval.ann [--index .rag-beir-scifact-onnx]

Uses the SciFact index `rag eval --beir ../shared/data/scifact --backend onnx` built (and builds
it if missing).
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from rag import Retriever, Settings, evaluate_beir, load_beir

ROOT = Path(__file__).resolve().parent.parent
SCIFACT = ROOT.parent / "shared" / "data" / "scifact"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", default=str(ROOT / ".rag-beir-scifact-onnx"))
    args = ap.parse_args()
    docs, queries, qrels = load_beir(SCIFACT)
    if not (Path(args.index) / "manifest.json").exists():
        Retriever.from_documents(docs, index=args.index, settings=Settings(backend="onnx"))
    runs = {}
    for ann in ("exact", "hnsw"):
        r = Retriever.load(args.index, settings=Settings(backend="onnx", ann=ann))
        t0 = time.perf_counter()
        _ = r.index.faiss_index  # exact: read from disk; hnsw: built from the stored vectors
        build = time.perf_counter() - t0
        qs = list(queries.values())
        qvecs = r.embedder.encode(qs)
        lat = []
        for i in range(len(qs)):
            t0 = time.perf_counter()
            r.index.dense(qvecs[i:i + 1], 10)
            lat.append((time.perf_counter() - t0) * 1000)
        _, ids = r.index.dense(qvecs, 10)
        dense = evaluate_beir(r, queries, qrels, "dense").metrics["ndcg@10"]
        hybrid = evaluate_beir(r, queries, qrels, "hybrid").metrics["ndcg@10"]
        runs[ann] = {"ids": ids, "build": build, "p50": np.percentile(lat, 50),
                     "p95": np.percentile(lat, 95), "dense": dense, "hybrid": hybrid,
                     "passages": len(r.index)}
    recall = np.mean([len(set(a) & set(e)) / 10 for a, e in
                      zip(runs["hnsw"]["ids"], runs["exact"]["ids"])])
    print(f"SciFact, {runs['exact']['passages']} passages, {len(queries)} queries")
    print("| | exact (FAISS flat) | HNSW (M=32, efSearch=128) |")
    print("|---|---:|---:|")
    print(f"| recall@10 against exact | 1.000 | {recall:.4f} |")
    for key, label in (("dense", "nDCG@10 dense"), ("hybrid", "nDCG@10 hybrid")):
        print(f"| {label} | {runs['exact'][key]:.4f} | {runs['hnsw'][key]:.4f} |")
    print(f"| dense search p50 / p95 (ms, one query, vector given) | {runs['exact']['p50']:.2f} / "
          f"{runs['exact']['p95']:.2f} | {runs['hnsw']['p50']:.2f} / {runs['hnsw']['p95']:.2f} |")
    print(f"| index ready (s) | {runs['exact']['build']:.2f} (read) | "
          f"{runs['hnsw']['build']:.2f} (built) |")


if __name__ == "__main__":
    main()
