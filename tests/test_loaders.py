"""Every format a user keeps (rag/ingest/loaders/): files the tests make with the formats' own
libraries, read back with their page, slide, sheet or chapter; scans and images through OCR;
a corrupt file of each type skipped; clear reasons when a folder yields nothing."""
import email.message
import logging
from pathlib import Path

import pytest

from conftest import make_pdf
from eval.newcomer import text_image
from rag import SUFFIXES, ConfigError, Retriever, Settings, load_documents, load_file, \
    load_folder, verify_citation


def page_of(doc, phrase: str) -> int | None:
    return doc.page_at(doc.text.index(phrase))


def make_pptx(path: Path) -> None:
    from pptx import Presentation
    from pptx.util import Inches

    deck = Presentation()
    s1 = deck.slides.add_slide(deck.slide_layouts[1])
    s1.shapes.title.text = "Quarterly review"
    s1.placeholders[1].text = "Revenue grew by 12 percent in the third quarter."
    s2 = deck.slides.add_slide(deck.slide_layouts[5])
    s2.shapes.title.text = "Harbour project"
    table = s2.shapes.add_table(2, 2, Inches(1), Inches(2), Inches(6), Inches(1)).table
    for (r, c), text in {(0, 0): "Owner", (0, 1): "Due", (1, 0): "Mira Holt",
                         (1, 1): "14 March"}.items():
        table.cell(r, c).text = text
    s2.notes_slide.notes_text_frame.text = "The crane arrives on 2 April."
    deck.core_properties.title = "Board deck"
    deck.save(str(path))


def make_xlsx(path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    staff = book.active
    staff.title = "Staff"
    for row in (("Name", "Role", "Office"), ("Ada Finch", "Keeper", "Pemberton"),
                ("Tom Reyes", "Engineer", "Dover")):
        staff.append(row)
    budget = book.create_sheet("Budget")
    budget.append(("Item", "Cost"))
    budget.append(("New lamp", 1200))
    book.save(str(path))


def make_epub(path: Path) -> None:
    from ebooklib import epub

    book = epub.EpubBook()
    book.set_identifier("id1")
    book.set_title("Tales of the Coast")
    book.set_language("en")
    chapters = []
    for i, body in enumerate(["<h1>Storm</h1><p>The storm of 1881 wrecked three ships.</p>",
                              "<h1>Calm</h1><p>The keeper's daughter rowed out to the "
                              "wreck alone.</p>"], start=1):
        ch = epub.EpubHtml(title=f"Chapter {i}", file_name=f"ch{i}.xhtml", lang="en")
        ch.content = f"<html><body>{body}</body></html>"
        book.add_item(ch)
        chapters.append(ch)
    book.toc = chapters
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    book.spine = chapters
    epub.write_epub(str(path), book)


def make_odt(path: Path) -> None:
    from odf.opendocument import OpenDocumentText
    from odf.table import Table, TableCell, TableRow
    from odf.text import H, P

    doc = OpenDocumentText()
    doc.text.addElement(H(outlinelevel=1, text="Garden club minutes"))
    doc.text.addElement(P(text="The club voted to plant forty apple trees in May."))
    table = Table()
    row = TableRow()
    for value in ("Treasurer", "Ines Moro"):
        cell = TableCell()
        cell.addElement(P(text=value))
        row.addElement(cell)
    table.addElement(row)
    doc.text.addElement(table)
    doc.save(str(path))


RTF = (r"{\rtf1\ansi{\fonttbl\f0\fswiss Helvetica;}\f0\pard Opening hours\par\par "
       r"The museum opens at nine o'clock on weekdays.\par}")


def make_eml(path: Path, html_only: bool = False, attachment: bool = True) -> None:
    msg = email.message.EmailMessage()
    msg["Subject"] = "Lamp repair"
    msg["From"] = "Ada Finch <ada@example.org>"
    msg["To"] = "board@example.org"
    msg["Date"] = "Tue, 01 Dec 2026 10:00:00 +0000"
    body = "The lamp was repaired on Friday by the harbour engineers."
    if html_only:
        msg.set_content(f"<html><body><p>{body}</p></body></html>", subtype="html")
    else:
        msg.set_content(body)
    if attachment:
        msg.add_attachment(b"Part,Price\nLens,300\n", maintype="text", subtype="csv",
                           filename="costs.csv")
    path.write_bytes(bytes(msg))


def make_scan(path: Path, pages: list[list[str]]) -> None:
    """An image-only PDF (no text layer): one rendered page a list of lines."""
    images = [text_image(lines) for lines in pages]
    images[0].save(str(path), save_all=True, append_images=images[1:], resolution=150)


def test_every_type_is_listed_and_uploadable():
    from ui import uploads

    for suffix in (".pptx", ".xlsx", ".csv", ".epub", ".odt", ".rtf", ".eml", ".png", ".jpg",
                   ".tiff"):
        assert suffix in SUFFIXES and suffix in uploads.ALLOWED_UPLOADS
        assert uploads.check(f"a{suffix}", 10) is None


def test_slides_in_reading_order_with_notes_each_slide_a_page(tmp_path):
    make_pptx(tmp_path / "deck.pptx")
    doc = load_file(tmp_path / "deck.pptx", "deck.pptx")
    assert doc.title == "Board deck"
    # Slide titles are headings; a table's rows are read with their column names.
    assert doc.text.startswith("# Quarterly review\n\nRevenue grew by 12 percent")
    assert "# Harbour project\n\nRow 2: Owner: Mira Holt; Due: 14 March." in doc.text
    assert "Notes: The crane arrives on 2 April." in doc.text
    assert page_of(doc, "Revenue") == 1 and page_of(doc, "Mira Holt") == 2
    assert page_of(doc, "crane") == 2


def test_sheet_rows_keep_their_headers_each_sheet_a_page(tmp_path):
    make_xlsx(tmp_path / "book.xlsx")
    doc = load_file(tmp_path / "book.xlsx", "book.xlsx")
    assert "Sheet: Staff\n\nRow 2: Name: Ada Finch; Role: Keeper; Office: Pemberton." in doc.text
    assert "Row 2: Item: New lamp; Cost: 1200." in doc.text
    assert page_of(doc, "Tom Reyes") == 1 and page_of(doc, "New lamp") == 2
    (tmp_path / "staff.csv").write_text("Name;Role\nAda Finch;Keeper\n")
    csv_doc = load_file(tmp_path / "staff.csv", "staff.csv")
    assert csv_doc.text == "Row 2: Name: Ada Finch; Role: Keeper."


def test_epub_chapters_odt_and_rtf(tmp_path):
    make_epub(tmp_path / "tales.epub")
    book = load_file(tmp_path / "tales.epub", "tales.epub")
    assert book.title == "Tales of the Coast"
    assert page_of(book, "storm of 1881") == 1 and page_of(book, "rowed out") == 2
    make_odt(tmp_path / "minutes.odt")
    odt = load_file(tmp_path / "minutes.odt", "minutes.odt")
    assert odt.text == ("# Garden club minutes\n\nThe club voted to plant forty apple trees in "
                        "May.\n\nTreasurer: Ines Moro.")
    assert odt.title == "Garden club minutes"
    (tmp_path / "hours.rtf").write_text(RTF)
    rtf = load_file(tmp_path / "hours.rtf", "hours.rtf")
    assert rtf.text == "Opening hours\n\nThe museum opens at nine o'clock on weekdays."


def test_mail_with_its_attachment_as_a_document_of_its_own(tmp_path):
    make_eml(tmp_path / "mail.eml")
    docs = load_documents(tmp_path / "mail.eml", "mail.eml")
    mail, costs = docs
    assert mail.title == "Lamp repair" and mail.source == "mail.eml"
    # each header field a block of its own (alone, a label the answers do not cite)
    assert mail.text.startswith("Subject: Lamp repair\n\nFrom: Ada Finch <ada@example.org>\n\n"
                                "To: board@example.org\n\nDate: ")
    assert mail.text.endswith("The lamp was repaired on Friday by the harbour engineers.")
    assert costs.source == "mail.eml/costs.csv" and costs.text == "Row 2: Part: Lens; Price: 300."
    make_eml(tmp_path / "html.eml", html_only=True, attachment=False)
    (html,) = load_documents(tmp_path / "html.eml", "html.eml")
    assert "<p>" not in html.text and html.text.endswith("by the harbour engineers.")
    folder_docs, _ = load_folder(tmp_path)
    assert "mail.eml/costs.csv" in {d.source for d in folder_docs}


def test_images_and_scanned_pages_are_read_by_ocr(tmp_path):
    from rag.ingest.loaders.ocr import available

    assert available(), "OCR needs Tesseract: apt install tesseract-ocr (.ci/run does)"
    text_image(["The lighthouse keeper was Ada Finch."]).save(tmp_path / "note.png")
    note = load_file(tmp_path / "note.png", "note.png")
    assert "The lighthouse keeper was Ada Finch." in note.text
    make_scan(tmp_path / "scan.pdf", [["The harbour opened in 1871."],
                                      ["The lamp burns whale oil until 1902."]])
    scan = load_file(tmp_path / "scan.pdf", "scan.pdf")
    assert page_of(scan, "harbour opened") == 1 and page_of(scan, "whale oil") == 2
    # A PDF mixing a text page and a scanned page reads both.
    from pypdf import PdfReader, PdfWriter

    make_pdf(tmp_path / "text.pdf", ["The first page has a text layer."])
    writer = PdfWriter()
    writer.add_page(PdfReader(str(tmp_path / "text.pdf")).pages[0])
    writer.add_page(PdfReader(str(tmp_path / "scan.pdf")).pages[1])
    writer.write(str(tmp_path / "mixed.pdf"))
    mixed = load_file(tmp_path / "mixed.pdf", "mixed.pdf")
    assert page_of(mixed, "text layer") == 1 and page_of(mixed, "whale oil") == 2


def test_a_folder_that_yields_nothing_says_which_files_and_why(tmp_path):
    make_scan(tmp_path / "scan.pdf", [["Only an image of text."]])
    (tmp_path / "talk.key").write_bytes(b"keynote")
    with pytest.raises(ValueError, match="no text layer and OCR is off"):
        load_file(tmp_path / "scan.pdf", "scan.pdf", ocr=False)
    with pytest.raises(ConfigError) as e:
        Retriever.from_folder(tmp_path, settings=Settings(ocr=False))
    assert "scan.pdf: no text layer and OCR is off" in str(e.value)
    assert "talk.key: unsupported type" in str(e.value)


def test_a_corrupt_file_of_each_type_is_skipped_with_a_warning(tmp_path, caplog):
    bad = {f"bad{s}": b"\x00\x01 not really this type \xff" for s in
           (".pptx", ".xlsx", ".epub", ".odt", ".rtf", ".eml", ".png", ".tiff", ".csv")}
    for name, data in bad.items():
        (tmp_path / name).write_bytes(data)
    (tmp_path / "good.txt").write_text("A good file.")
    with caplog.at_level(logging.WARNING, logger="rag.ingest.loading"):
        docs, skipped = load_folder(tmp_path)
    assert [d.source for d in docs] == ["good.txt"]
    assert sorted(skipped) == sorted(bad)
    for name in bad:
        assert f"skipped {name}" in caplog.text


@pytest.mark.model
def test_each_format_answers_its_own_question_with_the_right_page(tmp_path, real_embedder):
    make_pptx(tmp_path / "deck.pptx")
    make_xlsx(tmp_path / "book.xlsx")
    make_epub(tmp_path / "tales.epub")
    make_odt(tmp_path / "minutes.odt")
    (tmp_path / "hours.rtf").write_text(RTF)
    make_eml(tmp_path / "mail.eml")
    make_scan(tmp_path / "scan.pdf", [["The harbour opened in 1871."],
                                      ["The lamp burns whale oil until 1902."]])
    r = Retriever.from_folder(tmp_path, embedder=real_embedder)
    cases = [("When does the crane arrive?", "deck.pptx", "crane arrives", 2),
             ("What is the role of Tom Reyes?", "book.xlsx", "Tom Reyes", 1),
             ("How much does the new lamp cost?", "book.xlsx", "New lamp", 2),
             ("Who rowed out to the wreck?", "tales.epub", "rowed out", 2),
             ("How many apple trees will the club plant?", "minutes.odt", "apple trees", None),
             ("When does the museum open?", "hours.rtf", "nine o'clock", None),
             ("Who repaired the lamp?", "mail.eml", "harbour engineers", None),
             ("What does the lamp burn?", "scan.pdf", "whale oil", 2)]
    for question, source, phrase, page in cases:
        a = r.ask(question)
        assert not a.abstained, question
        first = a.citations[0]
        assert first.passage.source == source and phrase in first.quote, (question, first.quote)
        assert first.page == page, question
        assert verify_citation(first, r.documents[first.passage.doc_id])


def test_a_row_is_known_and_read_back_as_its_columns_and_values():
    from rag.ingest.loaders.sheets import is_row, row_cells, rows_text

    text = rows_text([("product", "price_gbp", "stock"), ("Toaster", "29.00", "0")])
    assert is_row(text) and not is_row("The row of houses: 12.")
    assert row_cells(text) == [("product", "Toaster"), ("price_gbp", "29.00"), ("stock", "0")]
    assert row_cells("Prices: 12.") == []
