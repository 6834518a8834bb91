"""Benchmark on this machine: import time, model load, indexing throughput against plain
SentenceTransformer.encode on the same texts, query latency per mode, index size, peak memory.

    .venv/bin/python eval/bench.py [--beir ../shared/data/scifact] [--docs 1000]
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from rag import (MODES, READERS, Retriever, SentenceTransformerEmbedder, load_beir,
                 load_questions)

ROOT = Path(__file__).resolve().parent.parent


def import_time() -> float:
    """Seconds to `import rag` in a fresh interpreter (median of 5)."""
    code = "import time; t = time.perf_counter(); import rag; print(time.perf_counter() - t)"
    runs = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                 cwd=ROOT, check=True).stdout) for _ in range(5)]
    return statistics.median(runs)


def folder_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--beir", default=str(ROOT.parent / "shared" / "data" / "scifact"))
    ap.add_argument("--docs", type=int, default=1000, help="documents to index (0 = all)")
    ap.add_argument("--queries", type=int, default=300)
    args = ap.parse_args()

    print(f"# rag bench, {time.strftime('%Y-%m-%d')}, {platform.machine()}, "
          f"{os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"import rag: {import_time() * 1000:.0f} ms (fresh interpreter, median of 5)")

    t0 = time.perf_counter()
    emb = SentenceTransformerEmbedder()
    _ = emb.dim
    print(f"model load: {time.perf_counter() - t0:.2f} s")

    docs, queries, _ = load_beir(args.beir)
    if args.docs:
        docs = docs[: args.docs]
    t0 = time.perf_counter()
    r = Retriever.from_documents(docs, embedder=emb)
    index_s = time.perf_counter() - t0
    texts = [p.text for p in r.index.passages]
    tokens = sum(emb.count_tokens(t) + 2 for t in texts)
    print(f"indexed {len(docs)} SciFact documents -> {len(texts)} passages, {tokens} word pieces")
    print(f"  rag indexing (load+chunk+embed+FAISS): {index_s:.1f} s, "
          f"{len(texts) / index_s:.1f} passages/s, {tokens / index_s:.0f} tokens/s")

    t0 = time.perf_counter()
    emb.model.encode(texts, batch_size=64, normalize_embeddings=True, show_progress_bar=False)
    plain_s = time.perf_counter() - t0
    print(f"  plain SentenceTransformer.encode, same texts: {plain_s:.1f} s, "
          f"{len(texts) / plain_s:.1f} passages/s, {tokens / plain_s:.0f} tokens/s")
    print(f"  ratio rag/plain time: {index_s / plain_s:.2f}")

    qs = list(queries.values())[: args.queries]
    r.search(qs[0], k=10)  # warm-up: BM25 index, FAISS
    for mode in MODES:
        lat = []
        for q in qs:
            t0 = time.perf_counter()
            r.search(q, k=10, mode=mode)
            lat.append((time.perf_counter() - t0) * 1000)
        p50, p95 = np.percentile(lat, [50, 95])
        print(f"search latency {mode:6s} over {len(qs)} queries: p50 {p50:.1f} ms, "
              f"p95 {p95:.1f} ms")
    seed = Retriever.from_folder(ROOT / "seeds", embedder=emb)
    seed_qs = [q.question for q in load_questions(ROOT / "eval" / "seed_questions.jsonl")]
    for reader in READERS:
        for name, ret, asked in (("SciFact", r, qs[:50]), ("seed article", seed, seed_qs)):
            ret.settings = dataclasses.replace(ret.settings, reader=reader)
            runs = []
            for _ in range(2):  # cold (first sight of these passages), then warm
                lat = []
                for q in asked:
                    t0 = time.perf_counter()
                    ret.ask(q)
                    lat.append((time.perf_counter() - t0) * 1000)
                runs.append(np.percentile(lat, [50, 95]))
            print(f"ask latency, {reader} reader, {name} ({len(asked)} questions): cold p50 "
                  f"{runs[0][0]:.0f} ms p95 {runs[0][1]:.0f} ms; warm p50 {runs[1][0]:.0f} ms "
                  f"p95 {runs[1][1]:.0f} ms")

    with tempfile.TemporaryDirectory() as tmp:
        r.save(Path(tmp) / "idx")
        size = folder_size(Path(tmp) / "idx")
    print(f"index on disk: {size / 1e6:.1f} MB ({len(texts)} passages)")
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"peak memory (max RSS): {peak_kb / 1024:.0f} MB")


if __name__ == "__main__":
    main()
