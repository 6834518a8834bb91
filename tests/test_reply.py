"""Replies as models write them (rag/answer/reply.py): markers in every common format, layout,
framing words; without a model."""
import pytest

from rag.answer.reply import canonical_markers, split_reply, stated


@pytest.mark.parametrize("reply, markers", [
    ("Stalin died [1].", (1,)),
    ("Stalin died.[1]", (1,)),  # after the full stop, no space
    ("Stalin died. [1]", (1,)),
    ("Stalin died [1][2].", (1, 2)),
    ("Stalin died [1, 2].", (1, 2)),
    ("Stalin died [1; 3].", (1, 3)),
    ("Stalin died [1-3].", (1, 2, 3)),
    ("Stalin died [2–3].", (2, 3)),
    ("Stalin died (Source [1]).", (1,)),
    ("Stalin died (Sources: [1], [2]).", (1, 2)),
    ("Stalin died (see [2]).", (2,)),
    ("Stalin died [Source 1].", (1,)),
    ("Stalin died [Sources 1, 2].", (1, 2)),
    ("Stalin died [Passage 2].", (2,)),
    ("Stalin died【1】.", (1,)),
    ("Stalin died【1, 2】.", (1, 2)),
    ("Stalin died [^1].", (1,)),
    ("Stalin died. ^1", (1,)),
    ("Stalin died.^2", (2,)),
])
def test_markers_in_the_formats_models_write(reply, markers):
    claims = split_reply(reply)
    assert [(c.text, c.markers) for c in claims] == [("Stalin died.", markers)]


def test_a_marker_after_the_full_stop_does_not_join_two_sentences():
    claims = split_reply("The address lasted more than four hours.[1] It was broadcast live on "
                         "Soviet radio [2].")
    assert [(c.text, c.markers) for c in claims] == [
        ("The address lasted more than four hours.", (1,)),
        ("It was broadcast live on Soviet radio.", (2,))]


def test_a_power_is_no_marker():
    assert split_reply("It grew to 10^6 people [1].")[0].text == "It grew to 10^6 people."


def test_bullets_numbers_bold_and_italics_are_layout():
    claims = split_reply("Key points:\n- **Khrushchev** attacked *Stalin* [1]\n"
                         "2. A new _museum_ will open [2]\n## Summary\n* __It__ was secret [3]")
    assert [(c.text, c.markers) for c in claims] == [
        ("Khrushchev attacked Stalin", (1,)), ("A new museum will open", (2,)),
        ("Summary", ()), ("It was secret", (3,))]


def test_a_marker_closing_a_paragraph_or_list_covers_its_sentences():
    claims = split_reply("Khrushchev spoke for four hours. He attacked Stalin. [1]\n\n"
                         "- The congress voted to remove the body\n- It was done that night [2]\n\n"
                         "Nothing cited here. This one is [3]. And this one is not.")
    assert [(c.text, c.markers) for c in claims] == [
        ("Khrushchev spoke for four hours.", (1,)), ("He attacked Stalin.", (1,)),
        ("The congress voted to remove the body", (2,)), ("It was done that night", (2,)),
        # other sentences of the paragraph cite: an uncited one stays uncited
        ("Nothing cited here.", ()), ("This one is.", (3,)), ("And this one is not.", ())]
    # A line of markers alone covers the paragraph before it.
    assert [c.markers for c in split_reply("It rained. It snowed.\n[2]")] == [(2,), (2,)]


@pytest.mark.parametrize("written, facts", [
    ("According to the article, some listeners cried.", "Some listeners cried."),
    ("According to passage 2, some listeners cried.", "Some listeners cried."),
    ("As passage 1 notes, a version leaked abroad.", "A version leaked abroad."),
    ("The sources say that the speech was debated.", "The speech was debated."),
    ("Based on the provided context, the congress voted.", "The congress voted."),
    ("In summary: Khrushchev attacked Stalin.", "Khrushchev attacked Stalin."),
    ("He ignored it, according to the article.", "He ignored it."),
    ("Stalin died, as the text notes.", "Stalin died."),
    ("The text of the speech left out many crimes.", "The text of the speech left out many crimes."),
])
def test_framing_words_are_not_what_a_claim_states(written, facts):
    assert stated(written) == facts
    claim = split_reply(written + " [1]")[0]
    assert claim.facts == facts and claim.text == written  # shown as written


def test_canonical_markers():
    assert canonical_markers("A (Source [1]). B.[2][3] C [1-2]") == "A [1]. B [2][3]. C [1, 2]"
