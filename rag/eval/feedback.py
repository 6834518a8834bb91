"""Grades become an eval set: each graded answer is a question in the format of
eval/seed_questions.jsonl, kept beside the index (``INDEX-eval.jsonl``), its expected span
checked against the document text before it is written (``text[start:end] == quote``)."""
from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Mapping
from pathlib import Path

from ..errors import ConfigError
from ..types import Document

GRADES = ("right", "wrong", "unanswerable")
_LOCK = threading.Lock()


def eval_set_path(index: str | Path) -> Path:
    """Where the graded questions of the index at ``index`` are kept: beside it."""
    index = Path(index)
    return index.parent / f"{index.name}-eval.jsonl"


def graded_question(question: str, grade: str, documents: Mapping[str, Document],
                    doc_id: str | None = None, start: int | None = None,
                    end: int | None = None) -> dict:
    """The eval-set row for a graded answer. ``right``: the span it cited (``doc_id``,
    ``start``, ``end``) answers; ``wrong``: the span the person marked does; ``unanswerable``:
    the sources do not answer it. The quote is read from the document, so it is exact."""
    question = " ".join(question.split())
    if not question:
        raise ConfigError("question is empty: grade the answer to a question")
    if grade not in GRADES:
        raise ConfigError(f"grade={grade!r}: must be one of {', '.join(GRADES)}")
    qid = "g" + hashlib.sha256(question.encode("utf-8")).hexdigest()[:10]
    if grade == "unanswerable":
        return {"id": qid, "question": question, "answerable": False, "expected": [],
                "topic": "near"}
    if doc_id is None or start is None or end is None:
        raise ConfigError(f"grade={grade!r} needs the sentence that answers: doc_id, start and "
                          "end (the answer's citation, or the sentence marked in the viewer); "
                          "or grade it 'unanswerable'")
    doc = documents.get(doc_id)
    if doc is None:
        raise ConfigError(f"doc_id={doc_id!r}: not in the index")
    if not 0 <= start < end <= len(doc.text):
        raise ConfigError(f"start={start}, end={end}: must satisfy 0 <= start < end <= "
                          f"{len(doc.text)} (the length of {doc.source})")
    quote = doc.text[start:end]
    return {"id": qid, "question": question, "answerable": True,
            "expected": [{"source": doc.source, "quote": quote, "start": start, "end": end}]}


def load_rows(path: str | Path) -> list[dict]:
    path = Path(path)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def _write(path: Path, rows: list[dict]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                   encoding="utf-8")
    tmp.replace(path)  # whole or not at all


def record(path: str | Path, row: dict) -> list[dict]:
    """Add ``row`` to the set at ``path`` (a question graded again replaces its row)."""
    path = Path(path)
    with _LOCK:
        rows = [r for r in load_rows(path) if r["id"] != row["id"]] + [row]
        path.parent.mkdir(parents=True, exist_ok=True)
        _write(path, rows)
    return rows


def remove(path: str | Path, qid: str) -> bool:
    """Remove question ``qid`` from the set; False when it is not there."""
    path = Path(path)
    with _LOCK:
        rows = load_rows(path)
        kept = [r for r in rows if r["id"] != qid]
        if len(kept) == len(rows):
            return False
        _write(path, kept)
    return True
