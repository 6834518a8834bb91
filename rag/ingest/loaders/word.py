"""Word files (.docx, python-docx): paragraphs and table rows in document order."""
from __future__ import annotations

import re
from pathlib import Path

from . import heading as heading_block
from . import table_blocks


def docx_text(path: Path) -> tuple[str, str]:
    """(text, title) of a Word file: paragraphs and table rows in document order, a block each
    (headings marked as such, rows read with their column names); the title from the file's
    properties, else its first heading."""
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    d = docx.Document(str(path))
    blocks: list[str] = []
    heading = ""
    for item in d.iter_inner_content():
        if isinstance(item, Paragraph):
            text = item.text.strip()
            style = ((item.style.name if item.style is not None else "") or "").lower()
            if text and not heading and style.startswith(("title", "heading")):
                heading = text
            if text and style.startswith(("title", "heading")):
                level = re.search(r"\d+", style)
                blocks.append(heading_block(text, int(level.group()) if level else 1))
            elif text:
                blocks.append(text)
        elif isinstance(item, Table):
            rows = []
            for row in item.rows:
                cells = []
                for cell in row.cells:
                    t = " ".join(cell.text.split())
                    if not cells or cells[-1] != t:  # merged cells repeat
                        cells.append(t)
                rows.append(cells)
            blocks += table_blocks(rows)
    title = (d.core_properties.title or "").strip() or heading
    return "\n\n".join(blocks), title


def docx_file(path: Path, options=None) -> tuple[str, str, tuple[int, ...]]:
    return (*docx_text(path), ())
