"""A PDF page as the reader knows it: rendered locally (pypdfium2) with a quote's characters
marked by boxes. ``Document.text`` is the loader's repaired text (spaces squeezed, headers
dropped, hyphenation joined), so a quote is found again among the page's own characters word by
word, white space, hyphens and line breaks between them free; each character's box comes from
the PDF."""
from __future__ import annotations

import io
import re
from pathlib import Path

from ..errors import ConfigError
from ..types import Document

SCALE = 2.0  # pixels a PDF point: 144 dpi
# Between two characters of the quote the page may hold: white space, a hyphen at a line end
# ("infor-" + "mation"), pdfium's marker of such a hyphen (U+FFFE) or a soft hyphen.
_GAP = r"[\s\-\u00ad\ufffe]*"


def page_range(doc: Document, page: int) -> tuple[int, int]:
    """(start, end) of ``page`` (1-based) in ``doc.text``."""
    starts = doc.page_starts
    if not starts or not 1 <= page <= len(starts):
        raise ConfigError(f"page={page}: {doc.source} has "
                          f"{len(starts) if starts else 'no'} pages; give one from 1 to "
                          f"{len(starts)}" if starts else f"{doc.source} has no pages")
    end = starts[page] if page < len(starts) else len(doc.text)
    return starts[page - 1], end


def _pattern(quote: str) -> str:
    """Every non-space character of ``quote``, in order, with :data:`_GAP` between them."""
    chars = [c for c in quote if not c.isspace()]
    return _GAP.join(re.escape(c) for c in chars)


def quote_chars(page_text: str, quote: str) -> tuple[int, int] | None:
    """(first, last + 1) character indices of ``quote`` among the page's characters, or None."""
    if not quote.strip():
        return None
    m = re.search(_pattern(quote), page_text)
    return (m.start(), m.end()) if m else None


def render_page(pdf: str | Path, page: int, quote: str = "",
                scale: float = SCALE) -> tuple[bytes, list[tuple[float, float, float, float]]]:
    """(PNG of ``page`` of ``pdf``, the boxes drawn over ``quote``'s characters in pixels:
    (left, top, right, bottom)). No quote, or one not found on the page: no boxes."""
    import pypdfium2 as pdfium
    from PIL import Image, ImageDraw

    doc = pdfium.PdfDocument(str(pdf))
    try:
        if not 1 <= page <= len(doc):
            raise ConfigError(f"page={page}: the PDF has {len(doc)} pages")
        p = doc[page - 1]
        width, height = p.get_size()
        image = p.render(scale=scale).to_pil().convert("RGB")
        boxes = []
        text_page = p.get_textpage()
        found = quote_chars(text_page.get_text_range(), quote)
        if found is not None:
            for i in range(*found):
                left, bottom, right, top = text_page.get_charbox(i)
                if right > left and top > bottom:
                    boxes.append((left * scale, (height - top) * scale, right * scale,
                                  (height - bottom) * scale))
    finally:
        doc.close()
    overlay = image.copy()
    draw = ImageDraw.Draw(overlay)
    for box in boxes:
        draw.rectangle(box, fill=(255, 214, 0))
    marked = Image.blend(image, overlay, 0.45) if boxes else image
    out = io.BytesIO()
    marked.save(out, format="PNG")
    return out.getvalue(), boxes
