import json
from pathlib import Path

import pytest

from conftest import kept_at, ROOT, SEEDS
from rag import ConfigError, HashEmbedder, Retriever, Settings, load_folder
from rag.eval.evaluation import check_questions, evaluate, evaluate_beir, load_beir, load_questions

SEED_SET = ROOT / "eval" / "seed_questions.jsonl"
BEIR = Path(__file__).parent / "fixtures" / "beir"


def test_seed_set_quotes_sit_at_their_offsets():
    questions = load_questions(SEED_SET)
    docs, _ = load_folder(SEEDS)
    assert check_questions(questions, docs) == []
    answerable = [q for q in questions if q.answerable]
    assert len(answerable) >= 40 and len(questions) - len(answerable) >= 8
    assert len({q.id for q in questions}) == len(questions)


def test_validator_catches_a_shifted_quote(tmp_path):
    docs, _ = load_folder(SEEDS)
    row = json.loads(SEED_SET.read_text().splitlines()[0])
    row["expected"][0]["start"] += 1
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(row) + "\n")
    assert check_questions(load_questions(path), docs) == [
        f"{row['id']}: quote is not at [{row['expected'][0]['start']}:"
        f"{row['expected'][0]['end']}] of {row['expected'][0]['source']}"]


def test_bad_question_file_is_a_config_error(tmp_path):
    (tmp_path / "q.jsonl").write_text('{"id": 1}\n')
    with pytest.raises(ConfigError, match="q.jsonl:1"):
        load_questions(tmp_path / "q.jsonl")


def _tiny_set(tmp_path, text: str, quote: str, question: str, unanswerable: str,
              where: dict | None = None, **settings):
    """A one-file folder, its retriever (hash embedder) and a two-question set: one answered by
    ``quote``, one not answerable."""
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text(text)
    start = text.index(quote)
    rows = [{"id": "q1", "question": question, "answerable": True,
             "expected": [{"source": "a.txt", "quote": quote, "start": start,
                           "end": start + len(quote)}]},
            {"id": "q2", "question": unanswerable, "answerable": False, "expected": []}]
    qpath = tmp_path / "q.jsonl"
    qpath.write_text("".join(json.dumps(r) + "\n" for r in rows))
    r = Retriever.from_folder(folder, embedder=HashEmbedder(),
                              settings=Settings(max_tokens=16, overlap_sentences=0, **settings),
                              **(where or {}))
    return r, load_questions(qpath)


def test_evaluate_scores_a_tiny_set(tmp_path, store_kind):
    r, questions = _tiny_set(tmp_path, "The red fox jumps. Green frogs sing at night. Blue whales "
                             "are huge.", "Green frogs sing at night.", "which frogs sing at night",
                             "stock market prices today", kept_at(store_kind, tmp_path),
                             reader="heuristic", abstain_threshold=0.5)
    res = evaluate(r, questions, mode="hybrid")
    assert res.metrics["hit@1"] == 1.0 and res.metrics["mrr@10"] == 1.0
    assert res.metrics["answer_supported"] == 1.0
    assert res.metrics["citations"] >= 1 and res.metrics["citations_verified"] == 1.0
    assert res.metrics["abstain_recall"] == 1.0 and res.metrics["abstain_precision"] == 1.0
    q1 = res.questions[0]
    assert q1.first_relevant_rank == 1 and q1.supported and not q1.abstained


def test_beir_fixture_loads_and_scores():
    docs, queries, qrels = load_beir(BEIR)
    assert [d.id for d in docs] == ["c1", "c2", "c3", "c4"]
    assert docs[0].text.startswith("Coffee and sleep\n\nCaffeine")
    assert set(queries) == {"q1", "q2", "q3"}  # only queries judged in the split
    r = Retriever.from_documents(docs, embedder=HashEmbedder())
    res = evaluate_beir(r, queries, qrels, mode="bm25")
    assert res.metrics["ndcg@10"] == pytest.approx(1.0)
    assert res.metrics["recall@100"] == 1.0 and res.metrics["queries"] == 3


def test_beir_missing_files_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="lacks corpus.jsonl"):
        load_beir(tmp_path)


def test_report_has_table_failures_and_plots(tmp_path):
    from rag.eval.report import write_report

    r, questions = _tiny_set(tmp_path, "Alpha beta gamma. Delta epsilon zeta. Eta theta iota.",
                             "Delta epsilon zeta.", "iota theta", "nothing here",
                             reader="heuristic")
    results = [evaluate(r, questions, mode=m) for m in ("hybrid", "bm25")]
    path = write_report(results, tmp_path / "report", threshold=0.3)
    md = path.read_text()
    assert "| metric | hybrid | bm25 |" in md and "| mrr@10 |" in md
    assert "**q1**" in md and "expected: Delta epsilon zeta." in md
    for png in ("hit_at_k.png", "scores.png"):
        assert (tmp_path / "report" / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_evidence_depth_counts_the_characters_read_before_the_span_ends():
    from rag import ExpectedSpan, Passage
    from rag.eval.evaluation import evidence_depth

    text = "Alpha beta. Gamma delta.\n\nThe answer is here. More text follows."
    span = ExpectedSpan(source="a.txt", quote="The answer is here.",
                        start=text.index("The answer"), end=text.index("The answer") + 19)

    def passage(s, e):
        return Passage(id=f"a:{s}-{e}", doc_id="a", source="a.txt", title="", text=text[s:e],
                       start=s, end=e)

    first, second = passage(0, 24), passage(26, len(text))
    # Oracle: the ranked passages joined by a blank line, read up to the span's last character.
    joined = first.text + "\n\n" + second.text
    assert evidence_depth([first, second], [span]) == joined.index("here.") + 5
    assert evidence_depth([second, first], [span]) == 19
    assert evidence_depth([first], [span]) == float("inf")
