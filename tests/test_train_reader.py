"""The training recipe (eval/train_reader.py): its pairs from the SQuAD training set, its
checkpoints, its paraphrased questions. Fast, no model."""
import random

import numpy as np

from eval.train_reader import (Checkpoints, paraphrase, paraphrased, training_pairs,
                               word_neighbours)


def _squad_paragraph(article: int, context: str, qas: list[dict]) -> dict:
    from rag import split_sentences

    return {"article": article, "title": f"Article_{article}", "context": context,
            "sentences": split_sentences(context), "qas": qas}


def _qa(qid: str, question: str, context: str = "", answer: str = "") -> dict:
    if not answer:
        return {"id": qid, "question": question, "answers": [], "impossible": True}
    at = context.index(answer)
    return {"id": qid, "question": question, "answers": [(at, at + len(answer))],
            "impossible": False}


def test_training_pairs_read_the_answer_its_paragraph_and_its_article_never_another():
    a = "The bridge opened in 1932. It carries six lanes. Tolls were dropped in 1990."
    b = "The bridge was painted grey. The bridge is 500 metres long. Painters work all year."
    c = "The canal opened in 1932. Barges carry coal on it."  # another article
    paragraphs = [
        _squad_paragraph(0, a, [_qa("q1", "When did the bridge open?", a, "1932")]),
        _squad_paragraph(0, b, [_qa("q2", "How long is the bridge?", b, "500 metres"),
                          _qa("u1", "When was the bridge repainted?")]),
        _squad_paragraph(1, c, [_qa("q3", "When did the canal open?", c, "1932")]),
    ]
    pairs = training_pairs(paragraphs, random.Random(0), 0)
    by_q: dict[str, list[tuple]] = {}
    for question, text, label, qid, span in pairs:
        by_q.setdefault(qid, []).append((text, label, span))
    assert set(by_q) == {"q1", "q2", "q3", "u1"}
    q1 = by_q["q1"]
    # One positive (the sentence with the answer, its span inside it), read with the title.
    [(text, _, span)] = [x for x in q1 if x[1] == 1]
    assert text == "Article 0 | The bridge opened in 1932." and text[span[0]:span[1]] == "1932"
    negatives = [t for t, label, _ in q1 if label == 0]
    # Negatives from its paragraph and from the other paragraph of its article (the one
    # sharing the most words first); none from the other article.
    assert "Article 0 | It carries six lanes." in negatives or \
        "Article 0 | Tolls were dropped in 1990." in negatives
    assert any("grey" in t or "500 metres" in t for t in negatives)
    assert not any("canal" in t for t in negatives)
    # The unanswerable question: its paragraph's sentences, all negatives, no span.
    assert by_q["u1"] and all(label == 0 and span is None for _, label, span in by_q["u1"])
    # A sample draws that many answerable questions (the unanswerable always come).
    drawn = {p[3] for p in training_pairs(paragraphs, random.Random(0), 1)}
    assert "u1" in drawn and len(drawn - {"u1"}) == 1


def test_a_checkpoint_resumes_its_own_recipe_and_no_other(tmp_path):
    import torch

    def parts(seed: int):
        torch.manual_seed(seed)
        model = torch.nn.Linear(3, 1)
        opt = torch.optim.AdamW(model.parameters(), lr=0.1)
        return model, opt, torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0 / (1 + s))

    model, opt, sched = parts(0)
    model(torch.ones(2, 3)).sum().backward()
    opt.step()
    sched.step()
    Checkpoints(tmp_path, {"questions": 10}).save(model, opt, sched, 7, 12.5)
    fresh, fresh_opt, fresh_sched = parts(1)
    assert not torch.equal(fresh.weight, model.weight)
    done = Checkpoints(tmp_path, {"questions": 10}).resume(fresh, fresh_opt, fresh_sched,
                                                           torch.device("cpu"))
    assert done == (7, 12.5) and torch.equal(fresh.weight, model.weight)
    assert fresh_sched.last_epoch == sched.last_epoch
    other = parts(2)
    assert Checkpoints(tmp_path, {"questions": 20}).resume(*other, torch.device("cpu")) == \
        (0, 0.0)
    # A finished run forgets its checkpoint: the same command then trains afresh.
    Checkpoints(tmp_path, {"questions": 10}).clear()
    assert Checkpoints(tmp_path, {"questions": 10}).resume(*other, torch.device("cpu")) == \
        (0, 0.0) and not list(tmp_path.iterdir())

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
