"""Smoke test of eval/load.py (`make load-test`: 50 clients x 10 questions, 10 kills)."""
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.model
def test_load_script_prints_its_tables_with_no_errors():
    out = subprocess.run([sys.executable, "-m", "eval.load", "--clients", "3",
                          "--questions", "2", "--kills", "1", "--api-questions", "2"],
                         capture_output=True, text=True, timeout=900, cwd=ROOT)
    assert out.returncode == 0, out.stdout + out.stderr[-3000:]
    rows = [line for line in out.stdout.splitlines() if line.startswith(("| REST", "| Gradio",
                                                                          "| `rag api`"))]
    assert len(rows) == 5 and all(row.split("|")[3].strip() == "0" for row in rows)  # 0 errors
    assert "first /ask after /health:" in out.stdout and "(HTTP 200)" in out.stdout
    assert "citing one that did not exist then: 0" in out.stdout
    assert "every acknowledged upload: 1 / 1" in out.stdout
