"""Grades become an eval set (rag/feedback.py; REST /api/v1/feedback; rag eval --index DIR)."""
import json
import subprocess
import sys

import pytest

from conftest import ROOT, copy_seed
from rag import (ConfigError, Document, HashEmbedder, Retriever, Settings, check_questions,
                 eval_set_path, graded_question, load_questions, record_feedback)

TEXT = ("The harbour opened in 1871. Its lighthouse was built of granite.\n\n"
        "The keeper was Ada Finch. She kept the lamp for forty years.")


def test_a_graded_row_is_exact_and_mistakes_are_refused(tmp_path):
    docs = {"d": Document(id="d", text=TEXT, source="a.txt")}
    start = TEXT.index("The keeper was Ada Finch.")
    row = graded_question("Who  kept the lamp?", "wrong", docs, "d", start, start + 25)
    assert row["question"] == "Who kept the lamp?" and row["answerable"]
    assert row["expected"] == [{"source": "a.txt", "quote": "The keeper was Ada Finch.",
                                "start": start, "end": start + 25}]
    assert graded_question("Who owns it?", "unanswerable", docs)["answerable"] is False
    with pytest.raises(ConfigError, match="needs the sentence that answers"):
        graded_question("Who?", "wrong", docs)
    with pytest.raises(ConfigError, match="start=5, end=999"):
        graded_question("Who?", "right", docs, "d", 5, 999)
    with pytest.raises(ConfigError, match="grade='maybe'"):
        graded_question("Who?", "maybe", docs)
    # The same question graded again replaces its row.
    path = tmp_path / "idx-eval.jsonl"
    record_feedback(path, row)
    rows = record_feedback(path, graded_question("Who kept the lamp?", "unanswerable", docs))
    assert len(rows) == 1 and rows[0]["answerable"] is False
    assert eval_set_path(tmp_path / "idx") == path


def test_grading_three_answers_over_rest_writes_a_set_that_runs(tmp_path):
    from fastapi.testclient import TestClient

    from ui.api import create_app
    from ui.service import ChatService

    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text(TEXT)
    r = Retriever.from_folder(folder, tmp_path / "idx", embedder=HashEmbedder(),
                              settings=Settings(reader="heuristic", abstain_threshold=-1.0))
    client = TestClient(create_app(ChatService(folder, tmp_path / "idx", retriever=r,
                                               warm=False)), raise_server_exceptions=False)
    a = client.post("/api/v1/ask", json={"question": "When did the harbour open?"}).json()
    c = a["citations"][0]
    ok = client.post("/api/v1/feedback", json={
        "question": "When did the harbour open?", "grade": "right",
        "doc_id": c["passage"]["doc_id"], "start": c["start"], "end": c["end"]})
    assert ok.status_code == 200, ok.text
    doc_id = c["passage"]["doc_id"]
    start = TEXT.index("The keeper was Ada Finch.")
    client.post("/api/v1/feedback", json={"question": "Who was the keeper?", "grade": "wrong",
                                          "doc_id": doc_id, "start": start,
                                          "end": start + 25})
    last = client.post("/api/v1/feedback", json={"question": "Who painted the tower?",
                                                 "grade": "unanswerable"}).json()
    assert last["total"] == 3 and last["path"] == str(eval_set_path(tmp_path / "idx"))
    bad = client.post("/api/v1/feedback", json={"question": "Who?", "grade": "wrong"})
    assert bad.status_code == 400 and "unanswerable" in bad.json()["error"]
    listed = client.get("/api/v1/feedback").json()["questions"]
    assert [q["answerable"] for q in listed] == [True, True, False]
    # The set reloads with every offset exact.
    questions = load_questions(eval_set_path(tmp_path / "idx"))
    assert check_questions(questions, list(r.documents.values())) == []
    run = client.post("/api/v1/feedback/evaluate").json()
    assert run["questions"] == 3 and "hit@5" in run["metrics"]
    assert all({"id", "question", "expected", "cited"} <= set(f) for f in run["failures"])
    gone = listed[0]["id"]
    assert client.delete(f"/api/v1/feedback/{gone}").json() == {"removed": gone}
    assert client.delete(f"/api/v1/feedback/{gone}").status_code == 404
    assert len(client.get("/api/v1/feedback").json()["questions"]) == 2


@pytest.mark.model
def test_rag_eval_with_an_index_runs_its_graded_set(tmp_path):
    folder = copy_seed(tmp_path / "docs")
    index = tmp_path / "idx"
    cli = [sys.executable, "-m", "rag.cli"]
    out = subprocess.run([*cli, "index", folder, "--index", index], cwd=ROOT,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    doc = next(iter(Retriever.load(index).documents.values()))
    start = doc.text.index("Seventy years ago today")
    end = doc.text.index(".", doc.text.index("Consequences")) + 2
    record_feedback(eval_set_path(index), graded_question(
        "When did Khrushchev give the speech?", "right", {doc.id: doc}, doc.id, start, end))
    out = subprocess.run([*cli, "eval", "--index", index, "--json"], cwd=ROOT,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["metrics"]["questions"] == 1.0
