"""How the stores scale: synthetic corpora of 10k, 100k and 1M passages (no model), for the local
store searched exactly and by HNSW, and for milvus-lite (10k and 100k).

    .venv/bin/python -m eval.bench_scale [--sizes 10000 100000 1000000] [--queries 200]

The corpus (seeded, see ``corpus``): documents of 10 passages; each passage ~40 words drawn from a
Zipfian vocabulary of 50,000 pseudo-words (exponent 1.0), so BM25 postings have realistic
lengths, and a 384-dim unit vector near one of 1,000 cluster centres (embeddings cluster by
topic), the clusters grouped under 30 broad subjects so that neighbouring topics overlap.
Queries: 4 words of a random passage and a vector near that passage's centre.

Each (size, store) is built in one process and queried in another (a server opens a saved
index): build time, peak RSS of each, size on disk, query p50/p95 per mode, recall@10 of HNSW
against exact search, and the time to add one document (10 passages) and save it, beside its
embedding (the benchmark's vectors are precomputed: embedding costs nothing here). Prints a
Markdown table; ``--plot FILE`` draws query latency against size (log-log).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DIM = 384
VOCAB = 50_000
CLUSTERS = 1_000
PER_DOC = 10
WORDS = 40
MODEL_ID = "bench/synthetic"
SPREAD = 0.04   # a topic's centre around its subject's (per dimension)
NOISE = 0.07    # a passage around its topic's centre (per dimension): cosine ~0.6 to it


def _vocabulary(rng) -> np.ndarray:
    syllables = np.array([c + v for c in "bdfgklmnprstvz" for v in "aeiou"])
    words = set()
    while len(words) < VOCAB:
        n = rng.integers(2, 5)
        words.add("".join(rng.choice(syllables, n)))
    return np.array(sorted(words))


def _raw(n: int, seed: int = 0):
    """(rng, vocabulary, word draws, cluster centres, cluster of each passage)."""
    rng = np.random.default_rng(seed)
    vocab = _vocabulary(rng)
    p = 1.0 / np.arange(1, VOCAB + 1)
    p /= p.sum()
    draws = rng.choice(VOCAB, size=(n, WORDS), p=p).astype(np.int32)
    # Topics within 30 broad subjects: neighbouring clusters overlap, as embeddings' topics do.
    subjects = rng.normal(size=(30, DIM))
    centres = (subjects[rng.integers(0, 30, CLUSTERS)] / np.sqrt(DIM)
               + rng.normal(scale=SPREAD, size=(CLUSTERS, DIM))).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    assign = rng.integers(0, CLUSTERS, n)
    return rng, vocab, draws, centres, assign


def corpus(n: int, seed: int = 0):
    """(documents, passages, vectors, centres, assign, vocab, draws) for ``n`` passages."""
    from rag import Document, Passage

    rng, vocab, draws, centres, assign = _raw(n, seed)
    docs, passages = [], []
    vectors = np.empty((n, DIM), np.float32)
    for start in range(0, n, 100_000):  # in blocks: the noise for 1M rows at once is 1.5 GB
        end = min(n, start + 100_000)
        v = centres[assign[start:end]] + rng.normal(scale=NOISE, size=(end - start, DIM))
        vectors[start:end] = v / np.linalg.norm(v, axis=1, keepdims=True)
    for d in range(0, n, PER_DOC):
        texts = [" ".join(vocab[draws[i]]) + "." for i in range(d, min(n, d + PER_DOC))]
        text = "\n\n".join(texts)
        doc_id = f"doc{d // PER_DOC:07d}"
        docs.append(Document(id=doc_id, text=text, title=f"Document {d // PER_DOC}",
                             source=f"{doc_id}.txt"))
        at = 0
        for t in texts:
            passages.append(Passage(id=f"{doc_id}:{at}-{at + len(t)}", doc_id=doc_id,
                                    source=f"{doc_id}.txt", title=f"Document {d // PER_DOC}",
                                    text=t, start=at, end=at + len(t)))
            at += len(t) + 2
    return docs, passages, vectors, centres, assign, vocab, draws


def queries(count: int, n: int, seed: int = 1):
    """(texts, vectors): 4 words of a random passage, a vector near its cluster centre."""
    _, vocab, draws, centres, assign = _raw(n)
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, n, count)
    texts = [" ".join(vocab[rng.choice(draws[r], 4, replace=False)]) for r in rows]
    v = centres[assign[rows]] + rng.normal(scale=NOISE, size=(count, DIM))
    return texts, (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


class Precomputed:
    """An 'embedder' for the benchmark: known texts get their corpus vector, others a seeded
    random one; it counts the time it spends (the embedding the add time is measured beside)."""

    dim, model_id, max_tokens = DIM, MODEL_ID, 256

    def __init__(self, table: dict[str, np.ndarray]) -> None:
        self.table = table
        self.seconds = 0.0

    def count_tokens(self, text: str) -> int:
        return len(text.split()) + 2

    def encode(self, texts, progress=False):
        t0 = time.perf_counter()
        out = np.stack([self.table[t] if t in self.table else _random_unit(t) for t in texts]) \
            if texts else np.zeros((0, DIM), np.float32)
        self.seconds += time.perf_counter() - t0
        return out


def _random_unit(text: str) -> np.ndarray:
    import zlib

    v = np.random.default_rng(zlib.crc32(text.encode())).normal(size=DIM).astype(np.float32)
    return v / np.linalg.norm(v)


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _disk_mb(path: Path) -> float:
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files) / 1e6


def _settings(ann: str):
    from rag import Settings

    return Settings(ann=ann, max_tokens=256, overlap_sentences=0, reader="heuristic")


def _where(store: str, folder: Path) -> str:
    return str(folder / "ix") if store != "milvus" else f"milvus:{folder}/ix.db"


def build(n: int, store: str, folder: Path) -> dict:
    """Child process: build and save the index; time and peak RSS."""
    from rag.dev import chunking, store_class

    docs, passages, vectors, *_ = corpus(n)
    emb = Precomputed({})
    settings = _settings("exact" if store == "exact" else "hnsw")
    t0 = time.perf_counter()
    added = {d.id: "2026-01-01T00:00:00Z" for d in docs}
    meta = {"model_id": emb.model_id, "backend": "torch", "dimension": DIM,
            "chunking": chunking(settings), "folders": {}}
    if store == "milvus":
        s = store_class("milvus")(f"{folder}/ix.db")
        s.create(meta)
        s.update([], docs, passages, vectors, added)
        s.save()
        s.close()
    else:
        s = store_class("local").empty(DIM, settings.ann, meta, path=folder / "ix")
        s.update([], docs, passages, vectors, added)
        s.save()
    return {"build_s": time.perf_counter() - t0, "build_rss_mb": _rss_mb()}


def query(n: int, store: str, folder: Path, count: int) -> dict:
    """Child process: open the saved index, run the queries in each mode, add one document."""
    from rag import Document, Retriever

    # Made by the parent: this process holds the index, not the corpus it was built from.
    texts = json.loads((folder / "queries.json").read_text())
    qvecs = np.load(folder / "queries.npy")
    table = dict(zip(texts, qvecs))
    new_texts = [f"novel passage {i} about lighthouses and keepers." for i in range(PER_DOC)]
    emb = Precomputed(table)
    t0 = time.perf_counter()
    r = Retriever.open(_where(store, folder), embedder=emb,
                       settings=_settings("exact" if store == "exact" else "hnsw"))
    out = {"open_s": time.perf_counter() - t0}
    for mode in ("dense", "bm25", "hybrid"):
        r.search_batch(texts[:5], k=10, mode=mode)  # warm
        lat = []
        for q in texts:
            t = time.perf_counter()
            r.search(q, k=10, mode=mode)
            lat.append((time.perf_counter() - t) * 1000)
        out[f"{mode}_p50_ms"] = float(np.percentile(lat, 50))
        out[f"{mode}_p95_ms"] = float(np.percentile(lat, 95))
    out["dense_top10"] = [[h.passage.id for h in r.search(q, k=10, mode="dense")] for q in texts]
    out["query_rss_mb"] = _rss_mb()
    doc = Document(id="added-doc", text="\n\n".join(new_texts), title="Added",
                   source="added.txt")
    emb.seconds = 0.0
    t = time.perf_counter()
    r.add_documents([doc])
    r.save()
    out["add_s"] = time.perf_counter() - t - emb.seconds
    out["add_embed_s"] = emb.seconds
    assert r.search("lighthouses keepers", k=1, mode="bm25")[0].passage.doc_id == "added-doc"
    r.close()
    return out


def _child(args) -> None:
    folder = Path(args.folder)
    fn = build if args.child == "build" else query
    extra = () if args.child == "build" else (args.queries,)
    print(json.dumps(fn(args.size, args.store, folder, *extra)))


def _run(kind: str, n: int, store: str, folder: Path, count: int, timeout: int) -> dict:
    cmd = [sys.executable, __file__, "--child", kind, "--size", str(n), "--store", store,
           "--folder", str(folder), "--queries", str(count)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                         env={**os.environ, "HF_HUB_OFFLINE": "1"})
    if out.returncode != 0:
        raise RuntimeError(f"{kind} {n} {store} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(sizes, stores, count: int, timeout: int, milvus_max: int) -> list[dict]:
    rows = []
    for n in sizes:
        exact_top = None
        texts, qvecs = queries(count, n)
        for store in stores:
            if store == "milvus" and n > milvus_max:
                continue
            with tempfile.TemporaryDirectory(prefix="rag-scale-") as tmp:
                folder = Path(tmp)
                (folder / "queries.json").write_text(json.dumps(texts))
                np.save(folder / "queries.npy", qvecs, allow_pickle=False)
                b = _run("build", n, store, folder, count, timeout)
                disk = _disk_mb(folder / ("ix.db" if store == "milvus" else "ix"))
                q = _run("query", n, store, folder, count, timeout)
                shutil.rmtree(folder, ignore_errors=True)
            top = q.pop("dense_top10")
            if store == "exact":
                exact_top = top
            recall = (np.mean([len(set(a) & set(e)) / 10 for a, e in zip(top, exact_top)])
                      if exact_top is not None else None)
            row = {"passages": n, "store": store, "disk_mb": disk, "recall@10": recall, **b, **q}
            rows.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
    return rows


def table(rows: list[dict]) -> str:
    cols = [("passages", "{:,}"), ("store", "{}"), ("build_s", "{:.1f}"),
            ("build_rss_mb", "{:.0f}"), ("disk_mb", "{:.0f}"), ("open_s", "{:.2f}"),
            ("query_rss_mb", "{:.0f}"), ("dense_p50_ms", "{:.2f}"), ("bm25_p50_ms", "{:.2f}"),
            ("hybrid_p50_ms", "{:.2f}"), ("hybrid_p95_ms", "{:.2f}"), ("recall@10", "{:.3f}"),
            ("add_s", "{:.3f}")]
    lines = ["| " + " | ".join(c for c, _ in cols) + " |",
             "|" + "---|" * len(cols)]
    for r in rows:
        lines.append("| " + " | ".join("–" if r.get(c) is None else f.format(r[c])
                                       for c, f in cols) + " |")
    return "\n".join(lines)


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for store in dict.fromkeys(r["store"] for r in rows):
        for mode, style in (("hybrid", "-o"), ("dense", "--s"), ("bm25", ":^")):
            pts = [(r["passages"], r[f"{mode}_p50_ms"]) for r in rows if r["store"] == store]
            if pts:
                ax.plot(*zip(*pts), style, label=f"{store} {mode}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("passages")
    ax.set_ylabel("query p50 (ms)")
    ax.set_title("Query latency against index size (2 cores)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--stores", nargs="+", default=["exact", "hnsw", "milvus"],
                    choices=["exact", "hnsw", "milvus"])
    ap.add_argument("--milvus-max", type=int, default=100_000,
                    help="largest size run on milvus-lite (default %(default)s)")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--timeout", type=int, default=5400, help="seconds per child process")
    ap.add_argument("--out", default=None, help="write the rows as JSON here")
    ap.add_argument("--plot", default=None, help="write the latency plot here (PNG)")
    ap.add_argument("--child", choices=["build", "query"], help=argparse.SUPPRESS)
    ap.add_argument("--size", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--store", help=argparse.SUPPRESS)
    ap.add_argument("--folder", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(args)
        return
    rows = measure(args.sizes, args.stores, args.queries, args.timeout, args.milvus_max)
    if args.out:
        Path(args.out).write_text(json.dumps(rows, indent=1))
    if args.plot:
        plot(rows, Path(args.plot))
    print(table(rows))


if __name__ == "__main__":
    main()
