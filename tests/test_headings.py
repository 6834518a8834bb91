"""Headings, titles and banners are context, not answers (rag/answer/readers/signals.py): on a user's
own files with headings (Markdown, .docx, PDF), the answering sentence under the heading is
cited, for both extractive readers."""
import pytest

from conftest import make_pdf

from rag import Document, Retriever, Settings
from rag.answer.readers.signals import asks_for_title, is_context_line

pytestmark = pytest.mark.model

QUESTIONS = [
    ("Who is the chairwoman of the orchard cooperative?", "Greta Lindqvist"),
    ("How tall is the Pemberton lighthouse?", "32 metres"),
    ("Who owns the Copper Kettle?", "Mara Okafor"),
]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    import docx

    root = tmp_path_factory.mktemp("headings")
    (root / "kettle.md").write_text(
        "# The Copper Kettle Tea Room\n\nThe Copper Kettle opened on Harbour Street in 1998. "
        "It is owned by Mara Okafor, who bakes the scones herself.\n\n## Opening Hours\n\n"
        "The tea room is open from nine until five, every day but Monday.\n")
    d = docx.Document()
    d.add_heading("Lindqvist Orchard Cooperative", level=1)
    d.add_paragraph("The cooperative was founded by twelve apple growers in 1952.")
    d.add_paragraph("Its chairwoman is Greta Lindqvist, who was elected in 2019.")
    d.add_heading("Harvest Festival", level=2)
    d.add_paragraph("The harvest festival takes place on the first Saturday of October.")
    d.save(root / "orchard.docx")
    make_pdf(root / "lighthouse.pdf", [["Pemberton Lighthouse Society", "",
                                        "The Pemberton lighthouse stands 32 metres tall.",
                                        "It was first lit in 1881 and automated in 1986."]])
    return root


@pytest.mark.parametrize("reader", ["heuristic", "learned"])
def test_no_heading_is_cited_as_an_answer(folder, real_embedder, reader):
    r = Retriever.from_folder(folder, embedder=real_embedder, settings=Settings(reader=reader))
    for question, fact in QUESTIONS:
        a = r.ask(question)
        assert not a.abstained and a.citations, (reader, question)
        for c in a.citations:
            doc = r.documents[c.passage.doc_id]
            assert not is_context_line(doc.text, c.start, c.end, doc), (reader, c.quote)
            assert "Cooperative" != c.quote.split()[-1] and "Society" not in c.quote, c.quote
        if reader == "learned":  # it reads "title | sentence": the heading gives the subject
            assert any(fact in c.quote for c in a.citations), (question, a.text)


def test_a_question_for_a_title_may_still_be_answered_by_one(folder, real_embedder):
    r = Retriever.from_folder(folder, embedder=real_embedder, settings=Settings())
    a = r.ask("What is the name of the orchard cooperative?")
    assert any("Lindqvist Orchard Cooperative" in c.quote for c in a.citations), a.text


def test_context_lines():
    doc = Document(id="d", text="", title="The Copper Kettle Tea Room")
    text = ("The Copper Kettle Tea Room\n\nSupport The Moscow Times!\n\nA Message from The Moscow "
            "Times:\n\n| Height | 32 m |\n\nIt is owned by Mara Okafor.\n\nOpening Hours\n\n"
            "Founded in 1952 by twelve growers of apples and pears in the valley\n\nFire wardens\n\n"
            "Row 2: Floor: 1; Warden: Ann Lee.\n\n- Free parking\n\nParking costs 2 pounds\n\n"
            "Subject: Car park resurfacing\n\nFrom: facilities@fernhill.example\n\n"
            "Last words here\n")
    lines = [ln for ln in text.split("\n") if ln]
    flags = {ln: is_context_line(text, text.index(ln), text.index(ln) + len(ln), doc)
             for ln in lines}
    assert flags == {
        "The Copper Kettle Tea Room": True, "Support The Moscow Times!": True,
        "A Message from The Moscow Times:": True, "| Height | 32 m |": False,
        "It is owned by Mara Okafor.": False, "Opening Hours": True,
        "Founded in 1952 by twelve growers of apples and pears in the valley": False,
        # A few words in sentence case above more text: a heading; a bullet, a line with a
        # number or the document's last line stays a statement.
        "Fire wardens": True, "Row 2: Floor: 1; Warden: Ann Lee.": False, "- Free parking": False,
        "Parking costs 2 pounds": False, "Last words here": False,
        # a field whose value holds an address or a number is data; a subject line a label
        "Subject: Car park resurfacing": True, "From: facilities@fernhill.example": False}
    # A short note's title is read from its first sentence: that sentence is still an answer.
    note = "Quokkas live on Rottnest Island."
    assert not is_context_line(note, 0, len(note), Document(id="n", text=note, title=note))
    assert asks_for_title("What was the official title of Khrushchev's speech?")
    assert asks_for_title("What is the tea room called?")
    assert not asks_for_title("Who owns the Copper Kettle?")


def test_an_e_mail_header_is_not_the_answer(tmp_path, real_embedder):
    """The subject line names the topic of every question about the mail: a label, never cited
    as the answer; nor are the fields for a question they do not answer. The sender's field
    answers who wrote it."""
    from email.message import EmailMessage

    from rag import Retriever

    msg = EmailMessage()
    msg["From"], msg["To"] = "facilities@fernhill.example", "staff@fernhill.example"
    msg["Subject"], msg["Date"] = "Car park resurfacing", "Mon, 04 May 2026 09:12:00 +0100"
    msg.set_content("Hello all,\n\nThe car park will be closed on 12 and 13 May while it is "
                    "resurfaced. Please park in the public car park on Harbour Street; we will "
                    "refund the fees.\n\nThanks,\nFacilities")
    (tmp_path / "mail.eml").write_bytes(bytes(msg))
    r = Retriever.from_folder(tmp_path, embedder=real_embedder)
    a = r.ask("Where should staff park during the resurfacing?")
    assert a.citations and "Harbour Street" in a.citations[0].quote
    for c in a.citations:
        assert not c.quote.startswith(("Subject:", "From:", "To:"))
    a = r.ask("Which address was the e-mail sent from?")
    assert a.citations and a.citations[0].quote == "From: facilities@fernhill.example"
