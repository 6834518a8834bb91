"""E-books (.epub, ebooklib): the chapters in reading (spine) order, each through the HTML
loader; a chapter is a page."""
from __future__ import annotations

from pathlib import Path

from . import join_pages


def epub_text(path: Path, options=None) -> tuple[str, str, tuple[int, ...]]:
    import ebooklib
    from ebooklib import epub

    from .html import page_text

    book = epub.read_epub(str(path), options={"ignore_ncx": True})
    chapters = []
    for item_id, _ in book.spine:
        item = book.get_item_with_id(item_id)
        if item is None or item.get_type() != ebooklib.ITEM_DOCUMENT:
            continue
        text, _ = page_text(item.get_content().decode("utf-8", "replace"), "all")
        if text.strip():
            chapters.append(text)
    titles = book.get_metadata("DC", "title")
    text, starts = join_pages(chapters)
    return text, (titles[0][0].strip() if titles else ""), starts
