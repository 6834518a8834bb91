"""Benchmark of the embedding backends on this machine, in one run: whole-process cold `rag ask`,
`import rag`, model load, indexing throughput against a bare torch SentenceTransformer.encode of
the same texts, query-embedding time, search latency per mode, warm `ask` per reader, peak RSS,
and SciFact nDCG@10 (`rag eval --beir`, hybrid) per backend.

    .venv/bin/python -m eval.bench [--docs 1000] [--queries 300] [--no-beir]

Each backend is measured in its own process (clean model load and peak memory).
"""
from __future__ import annotations

import argparse
import json
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

ROOT = Path(__file__).resolve().parent.parent
SCIFACT = ROOT.parent / "shared" / "data" / "scifact"
RAG = str(Path(sys.executable).with_name("rag"))
QUESTION = "When did Khrushchev deliver the Secret Speech?"


def wall(cmd: list[str], runs: int = 5, **kw) -> float:
    """Median wall time (s) of a whole command, ``runs`` times."""
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, **kw)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


class NoModel:
    """The embedder's tokenizer with a model that costs nothing (constant unit vectors)."""

    def __init__(self, emb) -> None:
        self.emb, self.model_id, self.dim = emb, emb.model_id, emb.dim
        self.max_tokens, self.backend = emb.max_tokens, getattr(emb, "backend", "torch")

    def count_tokens(self, text: str) -> int:
        return self.emb.count_tokens(text)

    def encode(self, texts, progress=False):
        out = np.zeros((len(texts), self.dim), np.float32)
        out[:, 0] = 1.0
        return out


def worker(backend: str, docs_n: int, queries_n: int) -> dict:
    """Everything measured inside one process for ``backend``; returned as a dict."""
    from rag import MODES, READERS, Retriever, Settings, load_beir, load_questions, make_embedder

    out: dict = {"backend": backend}
    t0 = time.perf_counter()
    emb = make_embedder(backend=backend)
    emb.encode(["load"])
    out["model_load_s"] = time.perf_counter() - t0
    docs, queries, _ = load_beir(SCIFACT)
    docs = docs[:docs_n] if docs_n else docs
    settings = Settings(backend=backend)
    t0 = time.perf_counter()
    r = Retriever.from_documents(docs, embedder=emb, settings=settings)
    index_s = time.perf_counter() - t0
    texts = [p.text for p in r.index.passages]
    out["passages"] = len(texts)
    out["index_passages_per_s"] = len(texts) / index_s
    # Everything but the model (load, chunk with the tokenizer, FAISS, BM25, save): what a GPU
    # user waits for when embedding is nearly free.
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        cold = NoModel(make_embedder(backend=backend))  # its word-piece counts not cached
        Retriever.from_documents(docs, index=Path(tmp) / "ix", embedder=cold,
                                 settings=settings)
        out["non_embedding_passages_per_s"] = len(texts) / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    emb.encode(texts)
    out["encode_passages_per_s"] = len(texts) / (time.perf_counter() - t0)
    if backend == "torch":  # the reference: sentence-transformers' own encode, nothing else
        t0 = time.perf_counter()
        emb.model.encode(texts, batch_size=64, normalize_embeddings=True,
                         show_progress_bar=False)
        out["bare_torch_passages_per_s"] = len(texts) / (time.perf_counter() - t0)
    qs = list(queries.values())[:queries_n]
    lat = []
    for q in qs[:100]:
        t0 = time.perf_counter()
        emb.encode([q])
        lat.append((time.perf_counter() - t0) * 1000)
    out["query_embed_ms"] = float(np.median(lat))
    r.search(qs[0], k=10)  # warm-up: BM25, FAISS
    for mode in MODES:
        lat = []
        for q in qs:
            t0 = time.perf_counter()
            r.search(q, k=10, mode=mode)
            lat.append((time.perf_counter() - t0) * 1000)
        out[f"search_{mode}_p50_ms"], out[f"search_{mode}_p95_ms"] = \
            (float(x) for x in np.percentile(lat, [50, 95]))
    seed = Retriever.from_folder(ROOT / "seeds", embedder=emb, settings=settings)
    seed_qs = [q.question for q in load_questions(ROOT / "eval" / "seed_questions.jsonl")]
    for reader in READERS:
        for q in seed_qs:  # warm-up: sentence embeddings cached, reader loaded
            seed.with_settings(reader=reader).ask(q)
        lat = []
        for q in seed_qs:
            t0 = time.perf_counter()
            seed.ask(q)
            lat.append((time.perf_counter() - t0) * 1000)
        out[f"ask_{reader}_p50_ms"], out[f"ask_{reader}_p95_ms"] = \
            (float(x) for x in np.percentile(lat, [50, 95]))
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def scifact_ndcg(backend: str) -> tuple[float, float]:
    """(nDCG@10 hybrid, seconds) of `rag eval --beir` with ``backend``; its index is kept in
    .rag-beir-scifact-BACKEND and reused while fresh."""
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        subprocess.run([RAG, "eval", "--beir", str(SCIFACT), "--backend", backend, "--mode",
                        "hybrid", "--out", f"{tmp}/r.json"], check=True, cwd=ROOT,
                       stdout=subprocess.DEVNULL)
        return (json.loads(Path(f"{tmp}/r.json").read_text())["metrics"]["ndcg@10"],
                time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=500, help="SciFact documents to index (0: all)")
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--backends", default="onnx-int8,onnx,torch")
    ap.add_argument("--no-beir", action="store_true", help="skip SciFact nDCG@10")
    ap.add_argument("--runs", type=int, default=5, help="cold `rag ask` runs (median)")
    ap.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.docs, args.queries)))
        return

    from rag import DEFAULT_BACKEND

    backends = args.backends.split(",")
    print(f"# rag bench, {time.strftime('%Y-%m-%d')}, {platform.machine()}, "
          f"{os.cpu_count()} cores, Python {platform.python_version()}; default backend "
          f"{DEFAULT_BACKEND}")
    code = "import time; t = time.perf_counter(); import rag; print(time.perf_counter() - t)"
    imports = [float(subprocess.run([sys.executable, "-c", code], capture_output=True,
                                    text=True, cwd=ROOT, check=True).stdout) for _ in range(5)]
    print(f"import rag: {statistics.median(imports) * 1000:.0f} ms (fresh interpreter, median "
          f"of 5); cold `rag ask`: whole process, median of {args.runs}")
    rows: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "RAG_INDEX": ""}
        for b in backends:
            index = f"{tmp}/{b}"
            subprocess.run([RAG, "index", str(ROOT / "seeds"), "--index", index, "--backend", b],
                           check=True, capture_output=True, env=env)
            rows[b] = {"cold_ask_s": wall([RAG, "ask", QUESTION, "--index", index,
                                           "--backend", b], args.runs, env=env)}
            print(f"cold `rag ask` ({b} index): {rows[b]['cold_ask_s']:.2f} s", file=sys.stderr,
                  flush=True)
    for b in backends:  # timings first, all together; then the (long) SciFact runs
        res = subprocess.run([sys.executable, __file__, "--worker", b, "--docs", str(args.docs),
                              "--queries", str(args.queries)], check=True, capture_output=True,
                             text=True, cwd=ROOT)
        rows[b].update(json.loads(res.stdout.strip().splitlines()[-1]))
        print(f"measured {b}", file=sys.stderr, flush=True)
    for b in backends if not args.no_beir else ():
        rows[b]["scifact_ndcg@10"], secs = scifact_ndcg(b)
        print(f"SciFact ({b}): nDCG@10 {rows[b]['scifact_ndcg@10']:.4f} ({secs:.0f} s)",
              file=sys.stderr, flush=True)
    bare = rows.get("torch", {}).get("bare_torch_passages_per_s")
    table = [("cold `rag ask` (s, median of 5)", "cold_ask_s", "{:.2f}"),
             ("model load (s)", "model_load_s", "{:.2f}"),
             ("indexing (passages/s, load+chunk+embed+FAISS)", "index_passages_per_s", "{:.1f}"),
             ("encode only (passages/s)", "encode_passages_per_s", "{:.1f}"),
             ("everything but the model (passages/s)", "non_embedding_passages_per_s",
              "{:.0f}"),
             ("query embedding (ms, median)", "query_embed_ms", "{:.1f}")]
    table += [(f"search {m} p50 / p95 (ms)", f"search_{m}", None)
              for m in ("hybrid", "dense", "bm25")]
    table += [(f"warm ask, {r} reader, p50 / p95 (ms)", f"ask_{r}", None)
              for r in ("heuristic", "learned")]
    table += [("peak RSS (MB)", "peak_rss_mb", "{:.0f}")]
    if not args.no_beir:
        table.append(("SciFact nDCG@10 (hybrid)", "scifact_ndcg@10", "{:.4f}"))
    print(f"\nSciFact: {args.docs or 'all'} documents -> "
          f"{next(iter(rows.values()))['passages']} passages; bare torch "
          f"SentenceTransformer.encode of the same texts: "
          + (f"{bare:.1f} passages/s" if bare else "(torch not measured)"))
    print("| | " + " | ".join(backends) + " |")
    print("|---|" + "---:|" * len(backends))
    for label, key, fmt in table:
        if fmt is None:
            cells = [f"{rows[b][key + '_p50_ms']:.1f} / {rows[b][key + '_p95_ms']:.1f}"
                     for b in backends]
        else:
            cells = [fmt.format(rows[b][key]) for b in backends]
        print(f"| {label} | " + " | ".join(cells) + " |")
    if bare:
        print("| indexing / bare torch encode | " + " | ".join(
            f"{rows[b]['index_passages_per_s'] / bare:.2f}x" for b in backends) + " |")
    if not args.no_beir and "torch" in rows:
        ref = rows["torch"]["scifact_ndcg@10"]
        print("| nDCG@10 - torch's | " + " | ".join(
            f"{rows[b]['scifact_ndcg@10'] - ref:+.4f}" for b in backends) + " |")


if __name__ == "__main__":
    main()
