"""SQLite FTS5 against rag's BM25 on SciFact, before choosing the local store's BM25: nDCG@10 (BM25
alone, passages ranked, documents scored by their best passage, as `rag eval --beir --mode bm25`),
query latency, and the cost of inserting one document into an index of all of them.

    .venv/bin/python eval/fts5.py [--beir ../shared/data/scifact]

FTS5 is fed the same tokens as rag's BM25 (bm25s' tokenizer, English stop words, Snowball stems;
title and text), and also run with its own `porter` tokenizer on the raw text. No model: the
passages are cut with the model's tokenizer, their vectors are not needed.
"""
from __future__ import annotations

import argparse
import sqlite3
import statistics
import time
from pathlib import Path


ROOT = Path(__file__).resolve().parent.parent


def _fts5(passages, tokens, raw: bool):
    db = sqlite3.connect(":memory:")
    tok = "porter unicode61" if raw else "unicode61"
    db.execute(f"CREATE VIRTUAL TABLE p USING fts5(body, tokenize='{tok}')")
    rows = [(i, f"{p.title}\n{p.text}" if raw else " ".join(t))
            for i, (p, t) in enumerate(zip(passages, tokens))]
    db.executemany("INSERT INTO p(rowid, body) VALUES (?, ?)", rows)
    db.commit()
    return db


def _fts5_query(db, query: str, raw: bool, n: int = 100) -> list[int]:
    from rag.index import bm25_tokenize

    terms = (bm25_tokenize([query])[0] if not raw
             else [w for w in "".join(c if c.isalnum() else " " for c in query).split()
                   if len(w) > 1])
    if not terms:
        return []
    match = " OR ".join(f'"{t}"' for t in dict.fromkeys(terms))
    return [r[0] for r in db.execute("SELECT rowid FROM p WHERE p MATCH ? ORDER BY bm25(p) "
                                     "LIMIT ?", (match, n))]


def main() -> None:
    from bench import NoModel  # eval/bench.py: the tokenizer with a model that costs nothing

    from rag import Retriever, Settings, evaluate_beir, load_beir, make_embedder
    from rag import metrics as m
    from rag.index import _bm25_tokens

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--beir", default=str(ROOT.parent / "shared" / "data" / "scifact"))
    args = ap.parse_args()
    docs, queries, qrels = load_beir(args.beir)
    r = Retriever.from_documents(docs, embedder=NoModel(make_embedder()),
                                 settings=Settings(backend="onnx"))
    passages = r.index.live_passages()
    ours = evaluate_beir(r, queries, qrels, "bm25").metrics
    tokens = _bm25_tokens(passages)
    print(f"SciFact: {len(docs)} documents, {len(passages)} passages, {len(queries)} queries")
    print("| BM25 | nDCG@10 | recall@100 | query p50 (ms) | insert one document (ms) |")
    print("|---|---:|---:|---:|---:|")
    extra = docs[0]
    t0 = time.perf_counter()
    r.add_documents([type(extra)(id="extra", text=extra.text, title=extra.title,
                                 source="extra")])
    r.search("warm", k=10, mode="bm25")
    ours_insert = (time.perf_counter() - t0) * 1000
    print(f"| rag (rag/bm25.py) | {ours['ndcg@10']:.4f} | {ours['recall@100']:.4f} | "
          f"{ours['latency_p50_ms']:.2f} | {ours_insert:.1f} |")
    for raw in (False, True):
        db = _fts5(passages, tokens, raw)
        lat, ndcg, rec = [], [], []
        for qid, q in queries.items():
            t0 = time.perf_counter()
            rows = _fts5_query(db, q, raw)
            lat.append((time.perf_counter() - t0) * 1000)
            ranked = list(dict.fromkeys(passages[i].doc_id for i in rows))
            ndcg.append(m.ndcg_at_k(ranked, qrels[qid], 10))
            rec.append(m.recall_at_k(ranked, qrels[qid], 100))
        t0 = time.perf_counter()
        db.execute("INSERT INTO p(rowid, body) VALUES (?, ?)",
                   (len(passages), " ".join(tokens[0]) if not raw else passages[0].text))
        db.commit()
        insert = (time.perf_counter() - t0) * 1000
        name = "FTS5, porter tokenizer on the raw text" if raw else "FTS5, rag's tokens"
        print(f"| {name} | {statistics.mean(ndcg):.4f} | {statistics.mean(rec):.4f} | "
              f"{statistics.median(lat):.2f} | {insert:.1f} |")


if __name__ == "__main__":
    main()
