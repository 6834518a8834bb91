import re
import textwrap

from conftest import SEED_FILE
from hypothesis import given, settings
from hypothesis import strategies as st

from rag import split_blocks, split_sentences
from rag.ingest.segment import ABBREVIATIONS, wrap_width


def texts(text, spans):
    return [text[s:e] for s, e in spans]


def test_wrapped_paragraph_keeps_whole_sentences():
    para = ("gzip currently uses by default the LZ77 algorithm used in zip 1.9 (the Lempel-Ziv "
            "coding of 1977). It compresses files. The launch is on 3 May. Our CEO is Jane Doe. "
            "She joined in 2019 from a company that makes pumps and valves for ships.")
    second = "A second paragraph, also wrapped at fifty columns, ends here."
    text = textwrap.fill(para, 50) + "\n\n" + textwrap.fill(second, 50)
    got = [" ".join(s.split()) for s in texts(text, split_sentences(text))]
    assert got == [
        "gzip currently uses by default the LZ77 algorithm used in zip 1.9 (the Lempel-Ziv "
        "coding of 1977).", "It compresses files.", "The launch is on 3 May.",
        "Our CEO is Jane Doe.",
        "She joined in 2019 from a company that makes pumps and valves for ships.",
        "A second paragraph, also wrapped at fifty columns, ends here."]


def test_one_paragraph_a_line_is_not_wrapped():
    text = SEED_FILE.read_text(encoding="utf-8")
    assert wrap_width(text) is None
    spans = split_sentences(text)
    # Every line break of such a text ends a block: "Once" and "Monthly" are buttons, apart.
    assert "Once" in texts(text, spans) and "Monthly" in texts(text, spans)
    assert all("\n" not in t for t in texts(text, spans))


def test_headings_list_items_and_table_rows_end_blocks():
    body = ("This paragraph is wrapped by an editor at a width of about sixty\n"
            "columns, as plain text files usually are, and it goes on for\n"
            "a while so that the width can be measured from its lines.\n")
    text = ("# Install\n\n" + body + "- first item of the list\n- second item\n"
            "1. numbered item\n| a | b |\n| 1 | 2 |\n\n" + body)
    blocks = texts(text, split_blocks(text))
    assert blocks[0] == "# Install"
    assert blocks[1] == body.strip()
    assert blocks[2:7] == ["- first item of the list", "- second item", "1. numbered item",
                           "| a | b |", "| 1 | 2 |"]


def test_abbreviations_initials_decimals_quotes_and_brackets():
    text = ("Dr. J. R. Smith paid $3.50 for it, i.e. nothing. He said “Stop. Now.” Then he left "
            "(he was tired. Very tired.) and slept. The U.S. Army came. Ends here!")
    assert texts(text, split_sentences(text)) == [
        "Dr. J. R. Smith paid $3.50 for it, i.e. nothing.", "He said “Stop.", "Now.”",
        "Then he left (he was tired. Very tired.) and slept.", "The U.S. Army came.",
        "Ends here!"]


def test_a_court_case_and_a_circa_date_are_one_sentence():
    text = ("After the 1954 decision in Brown v. Board of Education of Topeka, schools changed. "
            "Runyon v. McCrary followed. It was built in c. 350 BC.")
    assert texts(text, split_sentences(text)) == [
        "After the 1954 decision in Brown v. Board of Education of Topeka, schools changed.",
        "Runyon v. McCrary followed.", "It was built in c. 350 BC."]


def test_a_range_inside_a_document_measures_lines_whole():
    # A passage that starts mid-line must not see a short "line" and break there.
    para = " ".join(f"Sentence {w} is about the weather in spring and in autumn." for w in
                    ("one", "two", "three", "four", "five", "six"))
    text = textwrap.fill(para, 60)
    start = text.index("Sentence three")
    spans = split_sentences(text, start, len(text))
    assert [" ".join(t.split()) for t in texts(text, spans)][0] == \
        "Sentence three is about the weather in spring and in autumn."
    assert len(spans) == 4


# Words that are not abbreviations ("oct." rightly does not end a sentence).
WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=9).filter(
    lambda w: w not in ABBREVIATIONS)
SENTENCE = st.builds(lambda ws, end: " ".join([ws[0].capitalize(), *ws[1:]]) + end,
                     st.lists(WORD, min_size=3, max_size=18), st.sampled_from([".", "!", "?"]))


@settings(max_examples=150, deadline=None)
@given(paragraphs=st.lists(st.lists(SENTENCE, min_size=1, max_size=6), min_size=1, max_size=5),
       width=st.integers(min_value=40, max_value=100))
def test_property_wrapped_sentences_are_exact_whole_and_cover_the_text(paragraphs, width):
    text = "\n\n".join(textwrap.fill(" ".join(p), width) for p in paragraphs)
    spans = split_sentences(text)
    # Exact slices, in order, never overlapping.
    assert all(0 <= s < e <= len(text) for s, e in spans)
    assert all(e1 <= s2 for (_, e1), (s2, _) in zip(spans, spans[1:]))
    # Together they cover every non-space character.
    covered = set()
    for s, e in spans:
        covered.update(range(s, e))
    assert all(i in covered for i, ch in enumerate(text) if not ch.isspace())
    # Each sentence written comes back whole, whatever the wrapping, once the text is long
    # enough for its wrap width to be measured (or holds no line break at all).
    expected = [s for p in paragraphs for s in p]
    got = [" ".join(text[s:e].split()) for s, e in spans]
    if wrap_width(text) is not None or "\n" not in text:
        assert got == expected


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab .!?\n\t\"()Q1-|#*")), max_size=300))
def test_property_any_text_gives_exact_trimmed_slices(text):
    for s, e in split_sentences(text):
        piece = text[s:e]
        assert piece and piece == piece.strip()
        assert re.search(r"\S", piece)


@settings(max_examples=80, deadline=None)
@given(paragraphs=st.lists(st.lists(SENTENCE, min_size=1, max_size=6), min_size=2, max_size=6),
       width=st.integers(min_value=40, max_value=100),
       budget=st.integers(min_value=12, max_value=60))
def test_property_passages_are_exact_slices_of_whole_sentences(paragraphs, width, budget):
    from rag.ingest.chunking import chunk_spans

    text = "\n\n".join(textwrap.fill(" ".join(p), width) for p in paragraphs)
    sentences = split_sentences(text)
    starts, ends = {s for s, _ in sentences}, {e for _, e in sentences}
    spans = chunk_spans(text, lambda t: len(t.split()), budget, overlap_sentences=1)
    assert spans[0][0] == sentences[0][0] and spans[-1][1] == sentences[-1][1]
    # Sentences too long for the budget alone are cut at words: only they may be split.
    too_long = [(s, e) for s, e in sentences if len(text[s:e].split()) + 2 > budget]

    def inside_too_long(i):
        return any(s <= i <= e for s, e in too_long)

    for s, e in spans:
        assert 0 <= s < e <= len(text)
        assert s in starts or inside_too_long(s)
        assert e in ends or inside_too_long(e)
    # Consecutive passages leave nothing out but white space.
    assert all(s2 <= e1 or not text[e1:s2].strip() for (_, e1), (s2, _) in zip(spans, spans[1:]))
    # Paragraph alignment: a passage starts at a block unless it continues one too long for the
    # budget (or a heading carried over it).
    blocks = split_blocks(text)
    for s, e in spans:
        block = next(b for b in blocks if b[0] <= s < b[1] or s == b[1])
        assert s == block[0] or len(text[block[0]:block[1]].split()) + 2 > budget
