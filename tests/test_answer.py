import pytest

from rag import ABSTAIN_TEXT, Document, HashEmbedder, Retriever, Settings, verify_citation

TEXT = ("The lighthouse was built in 1874 by the harbour company. "
        "Its lamp burned whale oil until 1910, when it was electrified. "
        "Visitors can climb the 120 steps every Sunday afternoon.")


@pytest.fixture
def retriever():
    return Retriever.from_documents([Document(id="lh", title="Lighthouse", text=TEXT)],
                                    embedder=HashEmbedder(),
                                    settings=Settings(reader="heuristic", abstain_threshold=0.3))


def test_answer_quotes_the_sources_with_verified_citations(retriever):
    a = retriever.ask("When was the lighthouse lamp electrified?")
    assert not a.abstained and a.citations
    for c in a.citations:
        assert verify_citation(c, retriever.documents[c.passage.doc_id])
        assert f"{c.quote} [{c.n}]" in a.text
    assert "electrified" in a.text
    # Every sentence of the answer is a sentence of the sources.
    stripped = a.text
    for c in a.citations:
        stripped = stripped.replace(f"{c.quote} [{c.n}]", "")
    assert stripped.strip() == ""


def test_abstains_when_evidence_is_weak(retriever):
    a = retriever.ask("Recipe for chocolate cake with strawberries")
    assert a.abstained and a.text == ABSTAIN_TEXT and a.citations == ()
    assert a.hits  # the closest passages are still offered


def test_verify_citation_rejects_a_shifted_span(retriever):
    c = retriever.ask("Who built the lighthouse?").citations[0]
    doc = retriever.documents[c.passage.doc_id]
    import dataclasses

    assert verify_citation(c, doc)
    assert not verify_citation(dataclasses.replace(c, start=c.start + 1), doc)


def test_when_questions_take_only_sentences_with_a_date():
    text = ("The lighthouse keeper loved the lighthouse and its lamp very much. "
            "The lamp was installed in 1874.")
    r = Retriever.from_documents([Document(id="lh", text=text)], embedder=HashEmbedder(),
                                 settings=Settings(reader="heuristic", abstain_threshold=0.0))
    a = r.ask("When was the lighthouse lamp loved by the keeper?")
    assert [c.quote for c in a.citations] == ["The lamp was installed in 1874."]
    b = r.ask("Why was the lighthouse lamp loved by the keeper?")
    assert b.citations[0].quote.startswith("The lighthouse keeper loved")


@pytest.mark.model
def test_short_sentences_that_answer_are_cited(real_embedder):
    text = ("Acme Widgets\n\nOur CEO is Jane Doe. She joined the company in 2019 after ten years "
            "at a shipping firm, where she ran the logistics division and grew its revenue.\n\n"
            "The launch is on 3 May. Tickets for the launch event are sold out, but the keynote "
            "will be streamed on the company website for everyone who registers in April.")
    r = Retriever.from_documents([Document(id="acme", text=text)], embedder=real_embedder)
    for question, expected in (("Who is the CEO?", "Our CEO is Jane Doe."),
                               ("When is the launch?", "The launch is on 3 May.")):
        answer = r.ask(question)
        assert not answer.abstained and answer.citations[0].quote == expected, answer.text


@pytest.mark.model
def test_no_padding_a_further_sentence_joins_only_when_it_too_answers(seed_retriever):
    """Settings(answer_join): a sentence joins the lead only when the learned reader gives it at
    least that share of the lead's probability; 0 lets in every sentence near the best score."""
    question = "Who gave the Secret Speech?"
    counts = {}
    for share in (0.0, 0.5, 1.0):
        a = seed_retriever.with_settings(answer_join=share).ask(question)
        assert not a.abstained and "Khrushchev" in a.citations[0].quote
        counts[share] = len(a.citations)
    assert counts[0.0] >= counts[0.5] >= counts[1.0] == 1
    assert counts[0.0] > counts[1.0]
