"""Costly extraction kept by content (rag/extracted.py): OCR runs once per file content, across
refreshes, added files and uploads; failures are kept and reported once."""
import shutil

import pytest

from rag import ExtractionCache, HashEmbedder, Retriever, load_documents
from rag.ingest.extracted import Extracted

needs_tesseract = pytest.mark.skipif(shutil.which("tesseract") is None,
                                     reason="tesseract-ocr is not installed (.ci/run installs it)")


@pytest.fixture
def ocr_calls(monkeypatch):
    """Counts Tesseract runs (each page or image read)."""
    from rag.ingest.loaders import ocr

    calls = []
    real = ocr.ocr_image

    def counted(image):
        calls.append(image.size)
        return real(image)

    monkeypatch.setattr(ocr, "ocr_image", counted)
    return calls


def memo(path):
    from test_loaders import text_image

    text_image(["Staff parking permits cost 40 pounds a year.",
                "They are due by 31 January."]).save(path)


def test_entries_round_trip_and_damaged_ones_are_read_again(tmp_path):
    cache = ExtractionCache(tmp_path / "x")
    key = cache.key("ab" * 32, ".png", "main", True)
    assert cache.get(key) is None
    cache.put(key, Extracted((("", "Some text.", "A title", (0, 5)),)))
    assert cache.get(key) == Extracted((("", "Some text.", "A title", (0, 5)),))
    assert cache.key("ab" * 32, ".png", "main", False) != key  # settings are part of the key
    (tmp_path / "x" / f"{key}.json").write_text("{not json")
    assert cache.get(key) is None
    assert cache.prune(set()) == 1 and list((tmp_path / "x").iterdir()) == []


@needs_tesseract
def test_a_photographed_memo_is_read_by_ocr_once_across_refreshes(tmp_path, ocr_calls):
    folder = tmp_path / "docs"
    folder.mkdir()
    memo(folder / "memo.png")
    (folder / "a.txt").write_text("The canteen opens at eight.")
    index = tmp_path / "idx"
    first = Retriever.from_folder(folder, index, embedder=HashEmbedder())
    assert len(ocr_calls) == 1 and first.last_stats.added == 2
    again = Retriever.from_folder(folder, index, embedder=HashEmbedder())  # nothing changed
    assert again.last_stats.added == 0 and again.last_stats.unchanged == 2
    (folder / "b.txt").write_text("The lift is serviced on Mondays.")
    third = Retriever.from_folder(folder, index, embedder=HashEmbedder())
    assert third.last_stats.added == 1
    assert len(ocr_calls) == 1  # tesseract ran once in all
    memo_doc = next(d for d in third.documents.values() if d.source == "memo.png")
    assert "31 January" in memo_doc.text
    assert (tmp_path / "idx-extracted").is_dir()


@needs_tesseract
def test_an_upload_reads_only_itself_by_ocr(tmp_path, ocr_calls):
    from rag import extracted_folder
    from ui.service import ChatService

    folder = tmp_path / "docs"
    folder.mkdir()
    memo(folder / "memo.png")
    r = Retriever.from_folder(folder, tmp_path / "idx", embedder=HashEmbedder(),
                              extracted=extracted_folder(tmp_path / "idx"))
    service = ChatService(folder, tmp_path / "idx", retriever=r, warm=False)
    assert len(ocr_calls) == 1
    src = tmp_path / "in"
    src.mkdir()
    (src / "notes.txt").write_text("The fire drill is on Friday.")
    assert "1 added" in service.upload([("notes.txt", str(src / "notes.txt"))])
    assert len(ocr_calls) == 1  # adding a text file OCRs nothing
    from test_loaders import text_image

    text_image(["Visitors sign in at the front desk."]).save(src / "sign.png")
    assert "1 added" in service.upload([("sign.png", str(src / "sign.png"))])
    assert len(ocr_calls) == 2  # the upload, once: checked and indexed from one read


def test_a_failure_is_kept_and_reported_once(tmp_path, caplog):
    import logging

    from rag.ingest.loading import CachedFailure

    bad = tmp_path / "fake.pdf"
    bad.write_text("plain text under a PDF name")
    cache = ExtractionCache(tmp_path / "x")
    with pytest.raises(Exception) as first:
        load_documents(bad, "fake.pdf", cache=cache)
    assert not isinstance(first.value, CachedFailure)
    with pytest.raises(CachedFailure):
        load_documents(bad, "fake.pdf", cache=cache)
    folder = tmp_path / "docs"
    folder.mkdir()
    shutil.copy(bad, folder / "fake.pdf")
    (folder / "a.txt").write_text("Some text.")
    with caplog.at_level(logging.WARNING, logger="rag.ingest.loading"):
        r = Retriever.from_folder(folder, tmp_path / "idx", embedder=HashEmbedder())
        assert sum("fake.pdf" in m for m in caplog.messages) == 1
        caplog.clear()
        r = Retriever.from_folder(folder, tmp_path / "idx", embedder=HashEmbedder())
        assert not any("fake.pdf" in m for m in caplog.messages)  # not at every start
    (info,) = [d for d in r.document_infos() if d.source == "fake.pdf"]
    assert info.error and info.passages == 0
    reopened = Retriever.load(tmp_path / "idx", embedder=HashEmbedder())
    assert [d.source for d in reopened.document_infos() if d.error] == ["fake.pdf"]
