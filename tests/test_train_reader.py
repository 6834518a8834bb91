"""The training recipe's paraphrased questions (eval/train_reader.py): fast, no model."""
import random

import numpy as np



from eval.train_reader import paraphrase, paraphrased, word_neighbours

NEAR = {"address": ["speech", "talk"], "long": ["lengthy"], "give": ["deliver"],
        "khrushchev": ["stalin"], "office": ["bureau"]}


def test_only_the_words_shared_with_the_answer_are_swapped():
    q = "How long did Khrushchev give the address?"
    s = "Khrushchev gave a long address to the congress."
    out = paraphrase(q, s, NEAR, random.Random(0))
    # "long" and "address" are in the sentence: swapped; "give" is not ("gave" is); the name
    # keeps its capital and stays; stop words stay.
    assert out.startswith("How lengthy did Khrushchev give the ")
    assert out.split()[-1] in ("speech?", "talk?")


def test_a_neighbour_the_sentence_holds_is_not_used():
    s = "The address was a speech."
    assert paraphrase("What was the address?", s, NEAR, random.Random(0)) == \
        "What was the talk?"
    assert paraphrase("What was the address?", s, {"address": ["speech"]},
                      random.Random(0)) == "What was the address?"


def _paragraph(question: str, qid: str) -> dict:
    context = "The office is in Leeds. It opened in 1998 after a long search."
    return {"context": context, "sentences": [(0, 23), (24, len(context))],
            "qas": [{"id": qid, "question": question,
                     "answers": [(context.index("Leeds"), context.index("Leeds") + 5)]}]}


def test_the_rate_decides_how_many_questions_are_rewritten_and_the_seed_which():
    ps = [_paragraph("Where is the office?", f"q{i}") for i in range(200)]
    assert paraphrased(ps, NEAR, random.Random(1), rate=0.0) == {}
    every = paraphrased(ps, NEAR, random.Random(1), rate=1.0)
    assert set(every) == {f"q{i}" for i in range(200)}
    assert set(every.values()) == {"Where is the bureau?"}
    half = paraphrased(ps, NEAR, random.Random(1), rate=0.5)
    assert 60 < len(half) < 140 and half == paraphrased(ps, NEAR, random.Random(1), rate=0.5)
    # Nothing shared with the answering sentence (the first): the question stays as it was.
    assert paraphrased([_paragraph("Where is the bureau?", "x")], NEAR, random.Random(1),
                       rate=1.0) == {}


class _Vectors:
    """An embedder with set vectors: words of a group point the same way."""

    def __init__(self, groups: dict[str, int], dim: int = 4):
        self.groups, self.dim = groups, dim

    def encode(self, texts):
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, w in enumerate(texts):
            out[row, self.groups.get(w, self.dim - 1)] = 1.0
            out[row] += 0.01 * (row + 1) / len(texts)  # not quite equal
            out[row] /= np.linalg.norm(out[row])
        return out


def test_neighbours_are_near_vocabulary_words_never_numbers_or_stop_words(tmp_path):
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("\n".join(["[CLS]", "##ing", "speech", "address", "talk", "eight",
                                "eighteen", "the", "ab", "Paris", "house"]))
    groups = {"speech": 0, "address": 0, "talk": 0, "eight": 0, "eighteen": 0, "house": 1}
    near = word_neighbours(_Vectors(groups), vocab)
    assert set(near) == {"speech", "address", "talk"}  # "house" has no neighbour near enough
    assert set(near["speech"]) == {"address", "talk"}
