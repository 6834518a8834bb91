"""The learned reader's answer logic with a stand-in model: which sentences it cites, how it
reranks passages, when it abstains. (tests/test_readers.py runs the real weights.)"""
import re

import numpy as np

from rag import Document, HashEmbedder, Retriever, Settings, verify_citation
from rag.answer.readers.learned import compose

TEXT = ("The lighthouse was built in 1874 by the harbour company. Its lamp burned whale oil "
        "until 1910, when it was electrified. Visitors can climb the 120 steps every Sunday "
        "afternoon. The gift shop sells postcards.")


class OverlapReader:
    """Probability = share of the question's words the text holds (deterministic)."""

    threshold = 0.5
    has_span = False  # the short answer is then the rule's

    def probabilities(self, question, texts, signals=None, titles=None):
        q = set(re.findall(r"\w+", question.lower()))
        return np.array([len(q & set(re.findall(r"\w+", t.lower()))) / len(q) for t in texts],
                        dtype=np.float32)


def setup():
    r = Retriever.from_documents([Document(id="lh", text=TEXT)], embedder=HashEmbedder(),
                                 settings=Settings(max_tokens=20, overlap_sentences=0,
                                                   reader="heuristic"))
    return r, r.search("lamp electrified", k=10, mode="dense")  # every passage


def test_cites_the_best_sentence_first_and_reranks_passages():
    r, hits = setup()
    settings = Settings(answer_margin=0.0)
    a = compose("when was the lamp electrified", "when was the lamp electrified", hits,
                r.documents, settings, OverlapReader(), k=2)
    assert not a.abstained and a.citations[0].quote == ("Its lamp burned whale oil until 1910, "
                                                        "when it was electrified.")
    assert len(a.citations) == 1 and verify_citation(a.citations[0], r.documents["lh"])
    assert len(a.hits) <= 2 and a.hits[0].passage.start <= a.citations[0].start
    assert [h.rank for h in a.hits] == list(range(1, len(a.hits) + 1))
    assert a.confidence == a.hits[0].reader_score


def test_abstains_below_the_threshold_and_keeps_the_closest_passages():
    r, hits = setup()
    a = compose("who sells postcards in paris", "who sells postcards in paris", hits,
                r.documents, Settings(), OverlapReader(), k=3)
    assert a.abstained and a.citations == () and a.hits and a.confidence < 0.5
    # An explicit threshold overrides the reader's own.
    b = compose("who sells postcards in paris", "who sells postcards in paris", hits,
                r.documents, Settings(abstain_threshold=0.1), OverlapReader(), k=3)
    assert not b.abstained


class FixedLogits:
    """A stand-in cross-encoder: the logit of a pair is the length of its text."""

    def logits(self, pairs):
        return np.array([float(len(t)) for _, t in pairs], dtype=np.float32)


def _reader(tmp_path, head, **extra):
    import json

    from rag.answer.readers.learned import LearnedReader

    meta = {"onnx": "x.onnx", "sha256": "", "max_length": 64, "abstain_threshold": 0.4,
            "platt": {"a": 1.0, "b": -3.0}, **extra}
    if head:
        meta["head"] = head
    (tmp_path / "reader.json").write_text(json.dumps(meta))
    reader = LearnedReader(tmp_path)
    reader._model = FixedLogits()
    return reader


def test_the_answer_head_weighs_the_logit_and_the_cheap_signals(tmp_path):
    from rag.answer.readers.learned import HEAD_FEATURES

    head = {"features": list(HEAD_FEATURES), "coef": [0.5, 2.0, 0.0, 1.0, -1.0, 0.0, -0.7],
            "intercept": -1.0, "threshold": 0.3}
    reader = _reader(tmp_path, head)
    signals = {"cos": np.array([0.5, 0.1], np.float32), "lexical": np.zeros(2, np.float32),
               "type": np.array([2.0, 0.0], np.float32),  # kinds asked for: counted once
               "log_passage_rank": np.log(np.array([1.0, 3.0], np.float32)),
               "log_cheap_rank": np.zeros(2, np.float32),
               "unknown_names": np.array([1.0, 1.0], np.float32)}
    got = reader.probabilities("q", ["ab", "abcd"], signals)
    z = np.array([0.5 * 2 + 2.0 * 0.5 + 1.0 * 1 - 0.0 - 0.7 - 1.0,
                  0.5 * 4 + 2.0 * 0.1 + 0.0 - np.log(3.0) - 0.7 - 1.0])
    assert np.allclose(got, 1 / (1 + np.exp(-z)), atol=1e-5)
    # Without signals (or without a head) the cross-encoder's own Platt-scaled probability.
    assert np.allclose(reader.probabilities("q", ["ab"]), 1 / (1 + np.exp(-(2.0 - 3.0))))
    assert np.allclose(_reader(tmp_path, None).probabilities("q", ["ab"], signals),
                       1 / (1 + np.exp(-(2.0 - 3.0))))


def test_a_title_reading_reader_gets_the_title_before_the_sentence(tmp_path):
    import pytest

    from rag import ConfigError
    from rag.answer.readers.learned import reader_text

    assert reader_text("The  Lighthouse\n", "It was built in 1874.") == \
        "The Lighthouse | It was built in 1874."
    assert reader_text("", "It was built in 1874.") == "It was built in 1874."
    # The document's headline, read as one of its sentences, is not led by itself.
    assert reader_text("The Lighthouse", "The  Lighthouse") == "The  Lighthouse"
    # A column named in snake case reads as its words, at the same offsets; other underscores
    # (a leading one, a blank "__") stay.
    row = "Row 4: product: Toaster; price_gbp: 29.00; _id: 7; fill __ in."
    read = reader_text("", row)
    assert read == "Row 4: product: Toaster; price gbp: 29.00; _id: 7; fill __ in."
    assert len(read) == len(row)
    titled = _reader(tmp_path, None, context="title")
    # FixedLogits: the logit is the length of what the cross-encoder reads.
    assert titled.logits("q", ["ab"], ["T"]).tolist() == [len("T | ab")]
    assert titled.logits("q", ["ab"]).tolist() == [2.0]  # no titles given: the sentence alone
    plain = _reader(tmp_path, None)  # readers trained before titles: the sentence alone
    assert plain.logits("q", ["ab"], ["T"]).tolist() == [2.0]
    with pytest.raises(ConfigError, match="context='page'"):
        _reader(tmp_path, None, context="page")


def test_compose_passes_each_sentence_s_document_title(tmp_path):
    r, hits = setup()
    seen = []

    class Recording(OverlapReader):
        def probabilities(self, question, texts, signals=None, titles=None):
            seen.append(titles)
            return super().probabilities(question, texts)

    compose("when was the lamp electrified", "when was the lamp electrified", hits, r.documents,
            Settings(), Recording(), k=2)
    assert seen and seen[0] == [r.documents["lh"].title] * len(seen[0])
