"""Text from images (.png, .jpg, .tiff) and from PDF pages without a text layer: Tesseract
(Debian's tesseract-ocr, through pytesseract), chosen over RapidOCR on this project's 2-core
machine: the seed article rendered at 200 dpi reads with 0.02% character error against 8%
(docs/decisions.md). Each Tesseract runs on one thread, one page a core at once: its OpenMP threads
made a page take 14 s on 2 cores, one thread 2.4 s. The OCR'd text is the document's text, so
citations stay exact slices of it."""
from __future__ import annotations

import logging
import os
import re
import shutil
from concurrent.futures import ThreadPoolExecutor

log = logging.getLogger(__name__)

DPI = 200  # PDF pages are rendered at this resolution for OCR
WORKERS = max(1, os.cpu_count() or 1)  # pages read at once, a Tesseract process each
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff")


class OcrUnavailable(ValueError):
    """OCR was needed but Tesseract is not installed."""


def available() -> bool:
    return shutil.which("tesseract") is not None


def ocr_image(image) -> str:
    """The text of one PIL image: Tesseract's lines, paragraphs separated by a blank line."""
    if not available():
        raise OcrUnavailable("it needs OCR and Tesseract is not installed (apt install "
                             "tesseract-ocr)")
    import pytesseract

    # Tesseract runs with the process's environment: the `rag` programs set OMP_THREAD_LIMIT=1
    # (WORKERS Tesseracts at once, one thread each); an application embedding rag decides.
    text = pytesseract.image_to_string(image.convert("L"), lang="eng")
    text = re.sub(r"[ \t]+\n", "\n", text.replace("\x0c", ""))
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def image_text(path, options=None) -> tuple[str, str, tuple[int, ...]]:
    """An image file's text; a multi-frame TIFF gives a page a frame."""
    if options is not None and not options.ocr:
        raise ValueError("an image, and OCR is off")
    from PIL import Image, ImageSequence

    from . import join_pages

    with Image.open(path) as im:
        pages = [ocr_image(frame.copy()) for frame in ImageSequence.Iterator(im)]
    text, starts = join_pages(pages)
    return text, "", starts if len(pages) > 1 else ()


def pdf_pages_text(path, pages: list[int]):
    """(page, text) of the given 0-based pages of a PDF, in order: rendered by pypdfium2,
    ``WORKERS`` at a time, each read by its own Tesseract."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(str(path))
    try:
        with ThreadPoolExecutor(WORKERS, thread_name_prefix="rag-ocr") as pool:
            for at in range(0, len(pages), WORKERS):
                batch = pages[at:at + WORKERS]
                images = [doc[i].render(scale=DPI / 72).to_pil() for i in batch]
                yield from zip(batch, pool.map(ocr_image, images))
    finally:
        doc.close()
