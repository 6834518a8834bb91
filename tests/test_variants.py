"""The seed article as users' files are (tests/fixtures/variants, built by eval/variants.py):
hard-wrapped text, a 4-page PDF, a web page. Each answers the seed questions as well as the
one-line-a-paragraph original, with whole sentences and the right pages."""
from pathlib import Path

import pytest
from conftest import SEED_FILE

from rag import Retriever, evaluate, load_questions, split_sentences, verify_citation

from eval.variants import is_fragment, page_right, page_texts

pytestmark = pytest.mark.model

FIXTURES = Path(__file__).parent / "fixtures" / "variants"
BLOCKS = {" ".join(line.split()) for line in SEED_FILE.read_text(encoding="utf-8").splitlines()}


@pytest.fixture(scope="module")
def results(real_embedder):
    out = {}
    for name in ("lines", "wrapped", "pdf", "html"):
        r = Retriever.from_folder(FIXTURES / name / "docs", embedder=real_embedder)
        out[name] = (r, evaluate(r, load_questions(FIXTURES / name / "questions.jsonl")))
    return out


@pytest.mark.parametrize("name", ["wrapped", "pdf", "html"])
def test_variant_answers_as_well_with_whole_sentences(results, name):
    r, res = results[name]
    base = results["lines"][1].metrics
    cites = [c for q in res.questions for c in q.citations]
    assert cites
    fragments = [c.quote for c in cites if is_fragment(c.quote, BLOCKS)]
    assert len(fragments) <= 0.05 * len(cites), fragments
    assert res.metrics["answer_supported"] >= base["answer_supported"] - 0.05
    assert res.metrics["hit@5"] >= base["hit@5"] - 0.05
    for c in cites:
        assert verify_citation(c, r.documents[c.passage.doc_id])


def test_pdf_citations_carry_the_page_of_their_quote(results):
    r, res = results["pdf"]
    pages = page_texts(FIXTURES / "pdf" / "docs" / "article.pdf")
    cites = [c for q in res.questions for c in q.citations]
    right = [page_right(c.quote, c.page, pages) for c in cites]
    assert sum(right) >= 0.98 * len(cites)
    # A sentence printed on a later page than its passage's first is labelled with its own page.
    doc = next(iter(r.documents.values()))
    later = [(p, s) for p in r.index.passages for s, _ in split_sentences(doc.text, p.start, p.end)
             if doc.page_at(s) != p.page]
    assert later, "some passage runs over a page break"
    passage, start = later[0]
    assert doc.page_at(start) == passage.page + 1


def test_wrapped_text_keeps_the_originals_sentences():
    original = SEED_FILE.read_text(encoding="utf-8")
    wrapped = (FIXTURES / "wrapped" / "docs" / "article.txt").read_text(encoding="utf-8")
    assert len(wrapped) == len(original) and wrapped != original
    assert split_sentences(wrapped) == split_sentences(original)
