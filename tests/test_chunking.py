import pytest

from conftest import SEED_FILE, make_pdf
from rag import Document, HashEmbedder, chunk_document, split_sentences
from rag.chunking import chunk_spans
from rag.loading import load_file


def words(text: str) -> int:
    return len(text.split())


def test_sentences_respect_abbreviations_and_line_breaks():
    text = "On Feb. 25 1956, Mr. Smith spoke. It was long (e.g. four hours)! Why?\nA heading\nEnd."
    spans = split_sentences(text)
    assert [text[s:e] for s, e in spans] == [
        "On Feb. 25 1956, Mr. Smith spoke.", "It was long (e.g. four hours)!", "Why?",
        "A heading", "End."]


def test_chunks_are_exact_slices_within_budget_with_overlap():
    sentences = [f"Sentence number {i} has a few words in it." for i in range(30)]
    text = " ".join(sentences)
    spans = chunk_spans(text, words, max_tokens=30, overlap_sentences=1)
    assert len(spans) > 3
    for s, e in spans:
        assert words(text[s:e]) + 2 <= 30
    # Consecutive passages share one sentence; together they cover the text.
    for (s1, e1), (s2, e2) in zip(spans, spans[1:]):
        assert s2 < e1 and s2 > s1
    assert spans[0][0] == 0 and spans[-1][1] == len(text)


def test_overlong_sentence_is_cut_at_word_boundaries():
    text = " ".join(f"w{i}" for i in range(100)) + "."
    spans = chunk_spans(text, words, max_tokens=20, overlap_sentences=0)
    assert all(words(text[s:e]) <= 18 for s, e in spans)
    assert " ".join(text[s:e] for s, e in spans) == text


def test_passage_ids_are_stable_and_text_is_a_slice(hash_embedder):
    doc = Document(id="doc1", text="One. Two words. " * 40, title="T", source="x.txt")
    a = chunk_document(doc, hash_embedder.count_tokens, 32)
    b = chunk_document(doc, hash_embedder.count_tokens, 32)
    assert [p.id for p in a] == [p.id for p in b]
    for p in a:
        assert doc.text[p.start:p.end] == p.text and p.id == f"doc1:{p.start}-{p.end}"


@pytest.mark.model
def test_every_seed_passage_is_a_slice_under_the_model_limit(real_embedder, real_torch_embedder):
    doc = load_file(SEED_FILE, SEED_FILE.name)
    passages = chunk_document(doc, real_embedder.count_tokens, 200)
    assert passages[0].start == 0
    tokenizer = real_torch_embedder.model.tokenizer
    for p in passages:
        assert doc.text[p.start:p.end] == p.text
        # Measured with the model's own tokenizer, special tokens included: never truncated.
        assert len(tokenizer(p.text)["input_ids"]) <= 200 <= real_embedder.max_tokens
    covered = set()
    for p in passages:
        covered.update(range(p.start, p.end))
    assert all(i in covered for i, c in enumerate(doc.text) if not c.isspace())


def test_html_and_pdf_passages_are_slices(tmp_path):
    emb = HashEmbedder()
    (tmp_path / "a.html").write_text("<title>T</title><p>" + "Some sentence here. " * 50 + "</p>"
                                     "<script>var x = 1;</script><p>Last one.</p>")
    make_pdf(tmp_path / "b.pdf", ["First page sentence. Another.", "Second page sentence."])
    for name in ("a.html", "b.pdf"):
        doc = load_file(tmp_path / name, name)
        passages = chunk_document(doc, emb.count_tokens, 40)
        assert passages
        for p in passages:
            assert doc.text[p.start:p.end] == p.text
        if name == "b.pdf":
            assert {p.page for p in passages} <= {1, 2} and passages[0].page == 1
