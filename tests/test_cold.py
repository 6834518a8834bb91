"""Smoke test of eval/cold.py (`make bench-cold`): one cold run prints its median and the stages
of a cold start, each a time that adds up to no more than the run (figures are the
benchmark's, not checked here)."""
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.model
def test_cold_bench_prints_the_run_and_its_stages():
    out = subprocess.run([sys.executable, "-m", "eval.cold", "--runs", "1"], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    head = re.search(r"median ([\d.]+) s, min ([\d.]+) s", out.stdout)
    assert head, out.stdout
    stages = dict(re.findall(r"^\| ([a-z][^|]*?) \| ([\d.]+) \|$", out.stdout, re.M))
    assert set(stages) == {"import", "open index", "load embedder",
                           "first answer (reader models load here)"}, stages
    assert all(float(v) > 0 for v in stages.values())
