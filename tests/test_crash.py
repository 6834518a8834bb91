"""Smoke test of eval/crash.py (`make crash-test` runs 20 rounds): `rag index` killed with
SIGKILL at random moments leaves an index that opens, as it was before or after."""
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.model
def test_killed_indexing_leaves_an_index_that_opens():
    out = subprocess.run([sys.executable, "-m", "eval.crash", "--rounds", "3",
                          "--seed", "5"], capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "| index opens and `rag search` works | 3 / 3 |" in out.stdout
    assert "| anything else | 0 |" in out.stdout
