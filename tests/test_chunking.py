import pytest

from conftest import SEED_FILE, make_pdf
from rag import Document, HashEmbedder, chunk_document, split_sentences
from rag.ingest.chunking import chunk_spans
from rag.ingest.loading import load_file


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


def _para(n: int, i: int) -> str:
    return " ".join(f"Paragraph {i} sentence {j} says a little." for j in range(n))


def test_passages_start_where_paragraphs_do_and_pack_short_ones():
    paras = [_para(1, 0), _para(1, 1), _para(2, 2), _para(9, 3), _para(1, 4)]
    text = "\n\n".join(paras)
    starts = {text.index(p) for p in paras}
    spans = chunk_spans(text, words, max_tokens=40, overlap_sentences=1)
    texts = [text[s:e] for s, e in spans]
    # Short paragraphs share a passage; the long one is split at sentences, its pieces
    # overlapping by one sentence; the paragraph after it starts a passage of its own.
    assert texts[0] == "\n\n".join(paras[:3])
    long_pieces = [t for t in texts if t.startswith("Paragraph 3") or "Paragraph 3 sentence 0" in t]
    assert len(long_pieces) >= 2 and paras[3].startswith(long_pieces[0])
    assert texts[-1] == paras[4]
    for (s1, e1), (s2, e2) in zip(spans, spans[1:]):
        if s2 < e1:  # an overlap only between pieces of one paragraph
            assert "\n\n" not in text[s1:e2]
    for s, e in spans:
        # A passage starts at a paragraph unless it continues one split for length, and it
        # crosses a paragraph break only to hold whole short paragraphs.
        assert s in starts or "Paragraph 3" in text[s:e]
        if "\n\n" in text[s:e]:
            assert s in starts and (e == len(text) or text[e:e + 2] == "\n\n")
        assert words(text[s:e]) + 2 <= 40


def test_a_heading_stays_with_the_paragraph_under_it():
    text = "\n\n".join([_para(5, 0), "Opening hours", _para(3, 1), "## Prices", _para(20, 2)])
    spans = chunk_spans(text, words, max_tokens=50, overlap_sentences=0)
    texts = [text[s:e] for s, e in spans]
    assert not any(t.endswith(("Opening hours", "## Prices")) for t in texts)
    assert any(t.startswith("Opening hours\n\nParagraph 1") for t in texts)
    assert any(t.startswith("## Prices\n\nParagraph 2") for t in texts)


def test_sentence_alignment_is_the_chunking_of_older_indexes():
    text = "\n\n".join([_para(2, 0), _para(2, 1), _para(2, 2)])
    spans = chunk_spans(text, words, max_tokens=30, overlap_sentences=1, align="sentences")
    # Runs of sentences across breaks, each opening with the previous one's last sentence.
    assert any("\n\n" in text[s:e] and not text[:s].endswith("\n\n") and s > 0 for s, e in spans)
    with pytest.raises(ValueError, match="align='words'"):
        chunk_spans(text, words, 30, align="words")
