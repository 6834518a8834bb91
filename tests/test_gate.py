"""The answer gate (rag/answer/readers/gate.py): abstention on near-topic questions, short answers only
when trusted, confidence a probability; and its fitting script as a smoke test."""
import dataclasses
import json
import subprocess
import sys

import pytest

from conftest import ROOT
from rag import ABSTAIN_TEXT, Document, Retriever, Settings, verify_citation
from rag.answer.readers import gate as gate_module
from rag.answer.readers.gate import GATE, features, gated, packaged_gate, unsaid

pytestmark = pytest.mark.model

DOC = ("# Lighthouse history\n\nThe Pemberton lighthouse was built in 1871 by the harbour board. "
       "Its keeper, Ada Finch, lived in the cottage at its foot for forty years.\n\nThe tower "
       "is painted white with a red band. Visitors may climb it on Sundays in summer.")


def _with(r: Retriever, settings: Settings) -> Retriever:
    """The same index under other settings (the module's fixture is never changed)."""
    return Retriever(r.store, r.embedder, settings)


@pytest.fixture(scope="module")
def retriever(real_embedder):
    return Retriever.from_documents([Document(id="light", text=DOC, title="Pemberton")],
                                    embedder=real_embedder, settings=Settings(max_tokens=48))


def test_the_packaged_gate_is_fitted_for_both_readers_and_the_packaged_embedder():
    gate = json.loads(GATE.read_text())
    assert gate["format"] == "rag-gate" and gate["model_id"].endswith("all-MiniLM-L6-v2")
    for reader in ("heuristic", "learned"):
        for model in ("answer", "short"):
            m = gate["readers"][reader][model]
            assert 0.0 < m["threshold"] < 1.0 and len(m["coef"]) >= 8
        figures = gate["figures"][reader]
        # On the gate's held-out records, half of them reworded questions (harder than asked;
        # eval/squad_eval.py checks the 0.8 floor on questions as asked).
        assert figures["short precision"] >= 0.75 and figures["short shown"] >= 0.2
        assert figures["abstained or hedged off-topic"] >= 0.5
        answer = gate["readers"][reader]["answer"]
        assert answer["threshold"] < answer["hedge"] < 1.0  # between them: hedged


@pytest.mark.parametrize("reader", ["heuristic", "learned"])
def test_confidence_is_a_probability_and_answers_stay_exact(retriever, reader):
    retriever = _with(retriever, Settings(max_tokens=48, reader=reader))
    for q in ("When was the Pemberton lighthouse built?", "Who was the keeper?",
              "How many visitors climb the tower each year?", "What is the capital of Peru?"):
        a = retriever.ask(q)
        assert 0.0 <= a.confidence <= 1.0
        for c in a.citations:
            assert verify_citation(c, retriever.documents[c.passage.doc_id])
        if a.short:
            first = a.citations[0]
            doc = retriever.documents[first.passage.doc_id].text
            assert doc[first.answer_start:first.answer_end] == a.short


def test_an_off_topic_question_is_refused_and_an_answerable_one_answered(retriever):
    retriever = _with(retriever, Settings(max_tokens=48))
    a = retriever.ask("When was the Pemberton lighthouse built?")
    assert not a.abstained and "1871" in a.citations[0].quote
    off = retriever.ask("What is the boiling point of mercury?")
    assert off.abstained and off.text.startswith(ABSTAIN_TEXT) and off.citations == ()


def test_the_gate_drops_a_short_answer_it_does_not_trust(retriever, monkeypatch):
    retriever = _with(retriever, Settings(max_tokens=48, gate=False))
    raw = retriever.ask("Who was the keeper of the lighthouse?")
    assert raw.short  # the reader alone marks one
    gate = packaged_gate()
    strict = json.loads(json.dumps(gate))
    strict["readers"]["heuristic"]["short"]["threshold"] = 1.0  # trust none
    monkeypatch.setattr(gate_module, "packaged_gate", lambda: strict)
    plain = gated(raw, "heuristic", None, retriever.read_context().learned)
    assert not plain.abstained and plain.short == ""
    assert plain.citations[0].answer_start is None and plain.citations[0].quote
    lenient = json.loads(json.dumps(gate))
    lenient["readers"]["heuristic"]["short"]["threshold"] = 0.0
    monkeypatch.setattr(gate_module, "packaged_gate", lambda: lenient)
    marked = gated(raw, "heuristic", None, retriever.read_context().learned)
    first = marked.citations[0]
    assert marked.short and first.quote[first.answer_start - first.start:
                                         first.answer_end - first.start] == marked.short


def test_an_abstention_says_what_the_sources_mention(retriever, monkeypatch):
    retriever = _with(retriever, Settings(max_tokens=48, gate=False))
    raw = retriever.ask("How tall is the Pemberton lighthouse?")
    strict = json.loads(json.dumps(packaged_gate()))
    strict["readers"]["heuristic"]["answer"]["threshold"] = 1.0
    monkeypatch.setattr(gate_module, "packaged_gate", lambda: strict)
    a = gated(raw, "heuristic", None, retriever.read_context().learned)
    assert a.abstained and a.citations == () and a.hits == raw.hits
    assert a.text == f"{ABSTAIN_TEXT} They mention Pemberton, but do not say how tall."
    assert 0.0 <= a.confidence <= 1.0
    # The user's own threshold wins over the gate's.
    assert not gated(raw, "heuristic", 0.0, retriever.read_context().learned).abstained


def test_between_the_thresholds_the_answer_is_hedged(retriever, monkeypatch):
    retriever = _with(retriever, Settings(max_tokens=48, gate=False))
    raw = retriever.ask("Who was the keeper of the lighthouse?")
    learned = retriever.read_context().learned
    gate = json.loads(json.dumps(packaged_gate()))
    p = gated(raw, "heuristic", None, learned).confidence
    answer = gate["readers"]["heuristic"]["answer"]
    answer["threshold"], answer["hedge"] = p / 2, min(1.0, p + 0.01)  # p lies between them
    gate["readers"]["heuristic"]["short"]["threshold"] = 0.0  # a short answer would be shown
    monkeypatch.setattr(gate_module, "packaged_gate", lambda: gate)
    hedged = gated(raw, "heuristic", None, learned)
    # The closest sentences, said to be unsure: cited, exact, no bold short answer.
    assert hedged.hedged and not hedged.abstained and hedged.outcome == "hedged"
    assert hedged.citations == tuple(dataclasses.replace(c, answer_start=None, answer_end=None)
                                     if i == 0 else c for i, c in enumerate(raw.citations))
    assert hedged.short == "" and hedged.confidence == pytest.approx(p)
    answer["hedge"] = p / 2  # above the hedge: answered, with its short answer
    sure = gated(raw, "heuristic", None, learned)
    assert sure.outcome == "answered" and sure.short
    answer["threshold"] = answer["hedge"] = min(1.0, p + 0.01)  # below both: abstained
    assert gated(raw, "heuristic", None, learned).outcome == "abstained"


def test_features_read_the_span_head_and_the_words_the_sources_never_say(retriever):
    retriever = _with(retriever, Settings(max_tokens=48, gate=False))
    a = retriever.ask("When was the Pemberton lighthouse built?")
    row = features(a, retriever.read_context().learned)
    assert row["qkind"] == "date" and 0.0 < row["span_p"] <= 1.0
    assert row["span"] == "1871" and row["fits"] and row["rule"] == "1871"
    # "attended" is never said; "congress" is ("who" and "the" are stop words).
    assert unsaid("Who attended the congress?", "The congress met in 1956.") == 0.5
    no_gate = dataclasses.replace(a, citations=())
    assert features(no_gate, retriever.read_context().learned)["span"] == ""


def test_a_question_its_sentence_cannot_answer_is_less_sure(retriever):
    """What the question asks that the cited sentence does not say (a negation, a number, the
    opposite) is read, and the packaged gate trusts such an answer less."""
    ungated = _with(retriever, Settings(max_tokens=48, gate=False))
    ctx = retriever.read_context().learned
    plain = "Who built the Pemberton lighthouse?"
    assert not any(features(ungated.ask(plain), ctx)[k] for k in gate_module.UNMET)
    sure = retriever.ask(plain).confidence
    for asked, what in (("Who did not build the Pemberton lighthouse?", "unmet_negated"),
                        ("Who built the Pemberton lighthouse in 1902?", "unmet_numbers")):
        assert features(ungated.ask(asked), ctx)[what] == 1.0
        assert retriever.ask(asked).confidence < sure, asked


def test_a_hash_embedder_index_is_not_gated(hash_embedder):
    r = Retriever.from_documents([Document(id="d", text=DOC)], embedder=hash_embedder,
                                 settings=Settings(max_tokens=48))
    gated_answer = r.ask("Who was the keeper?")
    ungated = _with(r, Settings(max_tokens=48, gate=False))
    assert ungated.ask("Who was the keeper?").confidence == gated_answer.confidence


def test_fit_gate_smoke(tmp_path):
    """eval/fit_gate.py end to end on a few questions, without writing the packaged gate."""
    records = tmp_path / "records.jsonl"
    out = subprocess.run([sys.executable, "-m", "eval.fit_gate", "--limit", "30", "--near", "12",
                          "--squad2", "8", "--paraphrase", "0", "--records", str(records),
                          "--report", str(tmp_path)], cwd=ROOT,
                         capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr[-2000:]
    rows = [json.loads(x) for x in records.read_text().splitlines()]
    assert {r["kind"] for r in rows} == {"answerable", "near", "off", "unanswerable"}
    assert {r["source"] for r in rows} == {"part A", "SQuAD 2.0"}
    # An unanswerable question's first citation never counts as holding the answer.
    assert not any(r["holds"] for r in rows if r["kind"] == "unanswerable")
    assert "SQuAD 2.0 unanswerable: hedged" in out.stdout
    assert {r["reader"] for r in rows} == {"heuristic", "learned"}
    assert "short answers:" in out.stdout and "abstained near-topic" in out.stdout
    assert (tmp_path / "gate_short_answers.png").stat().st_size > 0
    # Recalibrating a reader's answer probability keeps every decision of the gate.
    from eval.fit_gate import _p, recalibrated

    for r in rows:
        r["split"] = "fit"
    shipped = packaged_gate()["readers"]["heuristic"]
    moved = recalibrated(shipped, rows, "heuristic")
    mine = [r for r in rows if r["reader"] == "heuristic"]
    before = _p(mine, shipped["answer"]) >= shipped["answer"]["threshold"]
    after = _p(mine, moved["answer"]) >= moved["answer"]["threshold"]
    assert (before == after).all() and moved["short"] == shipped["short"]


@pytest.mark.parametrize("question, row, holds", [
    ("How many toasters are in stock?", "Row 4: product: Toaster; price_gbp: 29.00; stock: 0.", True),
    ("How many toasters are in stock?", "Row 2: product: Kettle; price_gbp: 39.50; stock: 120.", False),
    ("What does the toaster cost?", "Row 3: Model: CM500; Launch price: £149.", False),
    ("Which dentist works on Thursday?", "Row 5: Day: Thursday; Dentist: Dr Moreau.", True),
    ("Which dentist works on Saturday?", "Row 6: Day: Friday; Dentist: Dr Lindqvist.", False),
    ("What is the door code of the staff room?", "Row 6: Day: Friday; Room: Room 3.", False),
    ("Which product is out of stock?", "Row 4: product: Toaster; price_gbp: 29.00; stock: 0.", True),
    ("Who is the fire warden for the second floor?", "Row 4: Floor: Second; Warden: Bo Chan.", True),
    ("Who is the fire warden for the fifth floor?", "Row 4: Floor: Second; Warden: Bo Chan.", False),
])
def test_a_table_row_answers_only_about_its_own_record(question, row, holds):
    assert gate_module.holds_record(question, row, "prices") is holds


@pytest.fixture(scope="module")
def table(real_embedder):
    rows = ("Row 2: product: Electric kettle; model: KT200; price_gbp: 39.50; stock: 120.\n\n"
            "Row 3: product: Toaster; model: TS150; price_gbp: 29.00; stock: 0.\n\n"
            "Row 4: product: Milk frother; model: MF20; price_gbp: 24.95; stock: 65.")
    rota = ("Row 2: Day: Monday; Dentist: Dr Patel; Room: Room 1.\n\n"
            "Row 3: Day: Friday; Dentist: Dr Lindqvist; Room: Room 3.")
    return Retriever.from_documents([Document(id="prices", text=rows, title="prices"),
                                     Document(id="rota", text=rota, title="rota")],
                                    embedder=real_embedder)


def test_a_row_of_another_record_is_never_the_answer(table):
    a = table.ask("How many toasters are in stock?")
    assert a.citations and "Toaster" in a.citations[0].quote
    for q in ("Which dentist works on Saturday?", "What is the door code of the staff room?"):
        a = table.ask(q)
        assert a.outcome != "answered", (q, a.citations[0].quote)
        assert a.confidence < packaged_gate()["readers"]["heuristic"]["answer"]["hedge"]


def test_a_row_of_the_record_asked_leads_before_another(table):
    kettle = table.ask("How many electric kettles are in stock?").citations[0]
    toaster = table.ask("How many toasters are in stock?").citations[0]
    assert "kettle" in kettle.quote and "Toaster" in toaster.quote
    a = table.ask("What does the toaster cost?")
    swapped = dataclasses.replace(a, citations=(kettle, toaster), abstained=False, short="")
    out = gated(swapped, "heuristic", None, table.read_context().learned)
    # the toaster's row leads (a hedge quotes it alone, an answer with the kettle's after it)
    assert out.citations[0].quote == toaster.quote
    assert out.text.startswith(toaster.quote)


def test_a_name_the_closest_documents_title_is_context_not_a_record():
    row = "Row 5: treatment: Root canal; price_gbp: 450."
    question = "How much is a root canal at Larkspur Dental?"
    assert not gate_module.holds_record(question, row, "fees")
    assert gate_module.holds_record(question, row, "fees", "Larkspur Dental: questions. fees")
    # the context gives names, never the values a record is told apart by
    assert not gate_module.holds_record("How much is a root canal on Saturday?", row, "fees",
                                        "Opening hours on Saturday")
