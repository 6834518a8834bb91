"""rag eval --compare (rag/compare.py): metric deltas and the questions that moved."""
import json
import subprocess
import sys

import pytest

from conftest import ROOT
from rag import ConfigError
from rag.eval.compare import compare, load_run, markdown


def run(supported: bool, abstained: bool, rank, answer_supported: float) -> dict:
    return {"metrics": {"answer_supported": answer_supported, "hit@5": 1.0},
            "questions": [
                {"id": "a1", "question": "Who | spoke?", "answerable": True,
                 "supported": supported, "abstained": False, "first_relevant_rank": rank},
                {"id": "u1", "question": "Off topic?", "answerable": False, "supported": False,
                 "abstained": abstained, "first_relevant_rank": None},
                {"id": "a2", "question": "Same?", "answerable": True, "supported": True,
                 "abstained": False, "first_relevant_rank": 1}]}


def test_deltas_and_the_questions_that_moved(tmp_path):
    before = {"hybrid": run(False, True, 3, 0.5)}
    after = {"hybrid": run(True, False, 1, 1.0)}
    result = compare(before, after)["hybrid"]
    assert result["metrics"]["answer_supported"] == (0.5, 1.0, 0.5)
    assert result["metrics"]["hit@5"] == (1.0, 1.0, 0.0)
    moved = {m["id"]: m for m in result["moved"]}
    assert set(moved) == {"a1", "u1"}  # a2 did the same in both
    assert moved["a1"]["before"] == "answered (not supported), evidence at rank 3"
    assert moved["a1"]["after"] == "answered (supported), evidence at rank 1"
    assert moved["a1"]["change"] == "better" and moved["u1"]["change"] == "worse"
    text = markdown(compare(before, after))
    assert "| answer_supported | 0.500 | 1.000 | +0.500 |" in text
    assert "| a1 | Who \\| spoke? |" in text and "2 questions moved:" in text


def test_the_cli_reads_out_files_and_refuses_others(tmp_path):
    a, b, bad = tmp_path / "a.json", tmp_path / "b.json", tmp_path / "bad.json"
    a.write_text(json.dumps(run(False, True, 3, 0.5)))  # one run: written without a label
    b.write_text(json.dumps(run(True, True, 1, 1.0)))
    bad.write_text("[1, 2]")
    out = subprocess.run([sys.executable, "-m", "rag.cli", "eval", "--compare", str(a), str(b),
                          "--json"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert [m["id"] for m in data["run"]["moved"]] == ["a1"]
    assert load_run(a)["run"]["metrics"]["answer_supported"] == 0.5
    with pytest.raises(ConfigError, match="rag eval --out FILE"):
        load_run(bad)
    with pytest.raises(ConfigError, match="share no run"):
        compare({"hybrid": run(True, True, 1, 1.0)}, {"dense": run(True, True, 1, 1.0)})
