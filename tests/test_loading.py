import logging

import pytest

from conftest import SEED_FILE, make_pdf
from rag import load_folder
from rag.ingest.loading import load_file


def test_seed_is_shipped_byte_identical():
    shared = SEED_FILE.parent.parent.parent / "shared" / "seeds" / "000_d4fd3166ee4703b9.txt"
    if shared.exists():
        assert SEED_FILE.read_bytes() == shared.read_bytes()
    assert len(SEED_FILE.read_bytes()) == 11294


def test_folder_is_read_recursively_with_stable_ids_and_titles(tmp_path):
    (tmp_path / "a.txt").write_text("\n\nSubscribe now!\n  Plain title line here\nBody text.")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.md").write_text("# Markdown Title\n\nSome words.")
    (tmp_path / "ignored.key").write_text("x,y")  # a type rag does not read
    docs, skipped = load_folder(tmp_path)
    assert [d.source for d in docs] == ["a.txt", "sub/b.md"]
    assert [d.title for d in docs] == ["Plain title line here", "Markdown Title"]
    assert skipped == []
    seed = load_file(SEED_FILE, "seed.txt")
    assert seed.title == "70 Years After the Secret Speech, Russia Is Still Reckoning With Stalin"
    again, _ = load_folder(tmp_path)
    assert [d.id for d in docs] == [d.id for d in again]
    (tmp_path / "a.txt").write_text("changed")
    changed, _ = load_folder(tmp_path)
    assert changed[0].id != docs[0].id and changed[1].id == docs[1].id


def test_html_drops_scripts_and_styles_and_keeps_title(tmp_path):
    (tmp_path / "p.html").write_text(
        "<html><head><title>Page Title</title><style>p {color: red}</style>"
        "<script>alert('x')</script></head><body><h1>Heading</h1>"
        "<p>First paragraph &amp; more.</p><p>Second one.</p></body></html>")
    doc = load_file(tmp_path / "p.html", "p.html")
    assert doc.title == "Page Title"
    assert "alert" not in doc.text and "color" not in doc.text
    assert "First paragraph & more." in doc.text and "Heading" in doc.text


def test_pdf_keeps_page_numbers(tmp_path):
    make_pdf(tmp_path / "r.pdf", ["Alpha page one text.", "Beta page two text."], title="Report")
    doc = load_file(tmp_path / "r.pdf", "r.pdf")
    assert doc.title == "Report"
    assert doc.page_at(doc.text.index("Alpha")) == 1
    assert doc.page_at(doc.text.index("Beta")) == 2


def test_unreadable_file_is_skipped_with_a_warning(tmp_path, caplog):
    (tmp_path / "good.txt").write_text("Readable text.")
    (tmp_path / "bad.txt").write_bytes(b"\xff\xfe\x00bad bytes \xff")
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4 garbage")
    with caplog.at_level(logging.WARNING):
        docs, skipped = load_folder(tmp_path)
    assert [d.source for d in docs] == ["good.txt"]
    assert sorted(skipped) == ["bad.txt", "broken.pdf"]
    assert "bad.txt" in caplog.text and "broken.pdf" in caplog.text


PARA = ("The committee met in the old town hall on a cold morning in March and discussed the "
        "budget for the coming year at great length. Everyone agreed that the roof needed "
        "repairs before the winter came back. The treasurer presented the accounts, which "
        "showed a small surplus for the third year running.")


def test_html_inline_elements_stay_in_their_sentence_and_blocks_break(tmp_path):
    (tmp_path / "p.html").write_text(
        "<html><body><p>The file is owned by group <code>src</code> and is\n"
        "owned and <em>writable</em> by the <a href='#'>group</a>.</p><ul><li>First item</li>"
        "<li>Second item</li></ul><table><tr><td>Name</td><td>Jane Doe</td></tr></table>"
        "<p>Line one<br>Line two</p></body></html>")
    doc = load_file(tmp_path / "p.html", "p.html", html="all")
    assert "The file is owned by group src and is owned and writable by the group." in doc.text
    assert doc.text.split("\n\n")[1:4] == ["First item", "Second item", "Name: Jane Doe."]
    assert "Line one\nLine two" in doc.text


@pytest.mark.parametrize("html", ["main", "all"])
def test_html_line_wraps_inside_a_paragraph_are_spaces(tmp_path, html):
    # as a browser shows it: the wrap does not end the sentence ("... car park" / "is on ...")
    (tmp_path / "p.html").write_text(
        "<html><head><title>Q</title></head><body>\n<h1>Questions</h1>\n<h2>Is there parking?"
        "</h2><p>There are four spaces behind the clinic; the nearest public car park\nis on "
        "Mill Lane.</p>\n<pre>two\nlines</pre></body></html>")
    doc = load_file(tmp_path / "p.html", "p.html", html=html)
    assert "the nearest public car park is on Mill Lane." in doc.text
    assert "two\nlines" in doc.text


@pytest.mark.parametrize("html", ["main", "all"])
def test_html_headings_are_marked_and_table_rows_keep_their_column_names(tmp_path, html):
    rows = "".join(f"<tr><td>{floor}</td><td>{name}</td></tr>"
                   for floor, name in (("1", "Ann Lee"), ("2", "Bo Chan")))
    (tmp_path / "p.html").write_text(
        f"<html><body><main><h1>Site safety</h1><p>{PARA}</p><h2>Fire wardens</h2>"
        f"<table><tr><th>Floor</th><th>Warden</th></tr>{rows}</table><p>{PARA}</p>"
        "</main></body></html>")
    doc = load_file(tmp_path / "p.html", "p.html", html=html)
    blocks = [b for block in doc.text.split("\n\n") for b in block.split("\n")]
    heading = "## Fire wardens" if html == "all" else "Fire wardens"
    assert heading in blocks
    at = blocks.index(heading)
    assert blocks[at + 1:at + 3] == ["Row 2: Floor: 1; Warden: Ann Lee.",
                                     "Row 3: Floor: 2; Warden: Bo Chan."]


def test_html_main_content_drops_navigation_unless_all_is_asked(tmp_path):
    body = "".join(f"<p>{PARA}</p>" for _ in range(3))
    (tmp_path / "p.html").write_text(
        "<html><head><title>Minutes</title></head><body><nav><ul><li><a href='/'>Home</a></li>"
        "<li><a href='/x'>Subscribe to our newsletter today</a></li></ul></nav>"
        f"<article><h1>Minutes of the meeting</h1>{body}</article>"
        "<footer><p>Copyright 2026 Example Town Council. All rights reserved.</p></footer>"
        "</body></html>")
    main = load_file(tmp_path / "p.html", "p.html")
    every = load_file(tmp_path / "p.html", "p.html", html="all")
    assert "The treasurer presented the accounts" in main.text
    assert "Subscribe" not in main.text and "Copyright" not in main.text
    assert "Subscribe" in every.text and "Copyright" in every.text
    assert main.title == "Minutes"


def test_pdf_lines_join_into_sentences_across_pages_with_footers_dropped(tmp_path):
    import textwrap

    lines = textwrap.wrap(PARA + " " + PARA.replace("committee", "board"), 80)
    lines[2] = lines[2].rsplit(" ", 1)[0] + " infor-"  # a word hyphenated at the line end
    lines[3] = "mation " + lines[3]
    half = len(lines) // 2
    make_pdf(tmp_path / "r.pdf", [lines[:half] + ["Page 1"], lines[half:] + ["Page 2"]])
    doc = load_file(tmp_path / "r.pdf", "r.pdf")
    assert "Page 1" not in doc.text and "Page 2" not in doc.text
    assert "information" in doc.text and "infor-" not in doc.text
    from rag import split_sentences

    sentences = [" ".join(doc.text[s:e].split()) for s, e in split_sentences(doc.text)]
    assert "Everyone agreed that the roof needed repairs before the winter came back." in sentences
    assert len(sentences) == 6
    # The page of an offset is the page the character is printed on.
    second = doc.text.index(lines[half].split()[0], doc.page_starts[1])
    assert doc.page_at(second) == 2 and doc.page_at(second - 2) == 1


def test_docx_paragraphs_tables_and_heading_title(tmp_path):
    import docx

    d = docx.Document()
    d.add_heading("Quarterly report", level=1)
    d.add_paragraph("Our CEO is Jane Doe. The launch is on 3 May.")
    table = d.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Region", "Sales"
    table.cell(1, 0).text, table.cell(1, 1).text = "North", "120"
    d.save(str(tmp_path / "r.docx"))
    (tmp_path / "broken.docx").write_bytes(b"PK\x03\x04 not really a zip")
    docs, skipped = load_folder(tmp_path)
    assert [x.source for x in docs] == ["r.docx"] and skipped == ["broken.docx"]
    doc = docs[0]
    assert doc.title == "Quarterly report"
    # Headings marked as such; a table's rows read with their column names.
    assert doc.text.split("\n\n") == ["# Quarterly report",
                                      "Our CEO is Jane Doe. The launch is on 3 May.",
                                      "Row 2: Region: North; Sales: 120."]


@pytest.mark.parametrize("meta_title", ["Enscript Output", "Microsoft Word - policy.docx",
                                        "untitled", "Document1", "policy-2024.pdf"])
def test_a_producer_default_pdf_title_gives_way_to_the_first_heading(tmp_path, meta_title):
    from conftest import make_pdf

    make_pdf(tmp_path / "policy.pdf", [["Return policy 2024", "Items may be returned within "
                                        "30 days."]], title=meta_title)
    assert load_file(tmp_path / "policy.pdf", "policy.pdf").title == "Return policy 2024"


def test_a_real_pdf_title_is_kept(tmp_path):
    from conftest import make_pdf

    make_pdf(tmp_path / "p.pdf", [["Some heading", "Body text here."]], title="Staff handbook")
    assert load_file(tmp_path / "p.pdf", "p.pdf").title == "Staff handbook"


def test_a_table_is_titled_by_its_file_and_each_row_names_its_columns(tmp_path):
    (tmp_path / "price-list.csv").write_text("sku,product,price_gbp\nNW-1001,BrewMaster CM400,"
                                             "89.99\nNW-1002,KettlePro 2,34.50\n")
    doc = load_file(tmp_path / "price-list.csv", "price-list.csv")
    assert doc.title == "price-list"
    assert "Row 3: sku: NW-1002; product: KettlePro 2; price_gbp: 34.50." in doc.text
    assert "NW-1001" not in doc.title
