"""Smoke test of eval/bench.py: a tiny run prints the table for a backend (figures not checked:
timings belong in the benchmark, not in tests)."""
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCIFACT = ROOT.parent / "shared" / "data" / "scifact"


@pytest.mark.model
@pytest.mark.skipif(not SCIFACT.is_dir(), reason="../shared/data/scifact is not here")
def test_bench_prints_the_backend_table():
    out = subprocess.run([sys.executable, "-m", "eval.bench", "--docs", "20",
                          "--queries", "5", "--no-beir", "--backends", "onnx-int8,torch",
                          "--runs", "1"],
                         capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert "| | onnx-int8 | torch |" in lines
    for row in ("cold `rag ask`", "indexing (passages/s", "query embedding", "search hybrid",
                "warm ask, learned reader", "peak RSS", "indexing / bare torch encode"):
        assert any(line.startswith(f"| {row}") for line in lines), row
