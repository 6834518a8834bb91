"""PowerPoint (.pptx, python-pptx): each slide's title (a heading), its text frames and tables
(rows read with their column names) in reading order (top to bottom, then left to right), and its
speaker notes; the slide number is the page."""
from __future__ import annotations

from pathlib import Path

from . import heading, join_pages, table_blocks


def _shape_blocks(shape) -> list[str]:
    from pptx.enum.shapes import MSO_SHAPE_TYPE

    if shape.shape_type == MSO_SHAPE_TYPE.GROUP:
        return [b for s in _ordered(shape.shapes) for b in _shape_blocks(s)]
    if getattr(shape, "has_table", False) and shape.has_table:
        return table_blocks([[" ".join(c.text.split()) for c in row.cells]
                             for row in shape.table.rows])
    if getattr(shape, "has_text_frame", False) and shape.has_text_frame:
        return [" ".join(p.text.split()) for p in shape.text_frame.paragraphs if p.text.strip()]
    return []


def _ordered(shapes):
    return sorted(shapes, key=lambda s: ((s.top or 0), (s.left or 0)))


def pptx_text(path: Path, options=None) -> tuple[str, str, tuple[int, ...]]:
    from pptx import Presentation

    deck = Presentation(str(path))
    slides, first_title = [], ""
    for slide in deck.slides:
        title_shape = slide.shapes.title
        title = " ".join(title_shape.text.split()) if title_shape is not None else ""
        first_title = first_title or title
        blocks = [heading(title)] if title else []
        for shape in _ordered(slide.shapes):
            if title_shape is not None and shape.shape_id == title_shape.shape_id:
                continue
            blocks += _shape_blocks(shape)
        if slide.has_notes_slide:
            notes = slide.notes_slide.notes_text_frame
            if notes is not None and notes.text.strip():
                blocks.append("Notes: " + " ".join(notes.text.split()))
        slides.append("\n\n".join(b for b in blocks if b))
    text, starts = join_pages(slides)
    return text, (deck.core_properties.title or "").strip() or first_title, starts
