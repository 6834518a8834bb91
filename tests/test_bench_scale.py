"""Smoke test of eval/bench_scale.py (`make bench-scale` runs 10k, 100k and 1M passages)."""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_bench_scale_prints_its_table_for_every_store(tmp_path):
    out = subprocess.run([sys.executable, "-m", "eval.bench_scale", "--sizes",
                          "2000", "--queries", "20", "--out", str(tmp_path / "rows.json"),
                          "--plot", str(tmp_path / "plot.png")],
                         capture_output=True, text=True, timeout=900, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "| passages | store |" in out.stdout
    rows = json.loads((tmp_path / "rows.json").read_text())
    assert [r["store"] for r in rows] == ["exact", "hnsw", "milvus"]
    exact, hnsw, milvus = rows
    assert exact["recall@10"] == 1.0 and 0.9 <= hnsw["recall@10"] <= 1.0
    assert 0.9 <= milvus["recall@10"] <= 1.0
    for r in rows:
        assert r["add_s"] > 0 and r["hybrid_p50_ms"] > 0 and r["disk_mb"] > 0
    assert (tmp_path / "plot.png").stat().st_size > 1000


def test_synthetic_corpus_is_seeded_and_sliced_from_its_documents():
    from eval import bench_scale

    docs, passages, vectors, *_ = bench_scale.corpus(50)
    again = bench_scale.corpus(50)
    assert [p.text for p in passages] == [p.text for p in again[1]]
    assert (vectors == again[2]).all()
    by_id = {d.id: d for d in docs}
    assert all(by_id[p.doc_id].text[p.start:p.end] == p.text for p in passages)
    assert len(passages) == 50 and len(docs) == 5
    assert abs(float((vectors ** 2).sum(axis=1).mean()) - 1.0) < 1e-5
