import logging

from conftest import SEED_FILE, make_pdf
from rag import load_folder
from rag.loading import load_file


def test_seed_is_shipped_byte_identical():
    shared = SEED_FILE.parent.parent.parent / "shared" / "seeds" / "000_d4fd3166ee4703b9.txt"
    if shared.exists():
        assert SEED_FILE.read_bytes() == shared.read_bytes()
    assert len(SEED_FILE.read_bytes()) == 11294


def test_folder_is_read_recursively_with_stable_ids_and_titles(tmp_path):
    (tmp_path / "a.txt").write_text("\n\nSubscribe now!\n  Plain title line here\nBody text.")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.md").write_text("# Markdown Title\n\nSome words.")
    (tmp_path / "ignored.csv").write_text("x,y")
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
