"""Spreadsheets (.xlsx through openpyxl, .csv through the standard library): a sheet is a
section (its number the page); each row a block "Row N: column: value; column: value." so that a
sentence-sized passage keeps its headers, and the citation shows the sheet and row."""
from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from pathlib import Path

from . import join_pages


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(str(value).split())


_ROW = re.compile(r"Row \d+: ")


def is_row(text: str) -> bool:
    """Whether ``text`` (a sentence) is a table row as :func:`rows_text` writes it."""
    return _ROW.match(text) is not None


def row_cells(text: str) -> list[tuple[str, str]]:
    """A row written by :func:`rows_text` as its (column, value) pairs ([] for other text).
    A value holding "; " is read up to it (the pairs are not escaped)."""
    m = _ROW.match(text)
    if m is None:
        return []
    body = text[m.end():].rstrip().removesuffix(".")
    return [(c.strip(), v.strip()) for c, _, v in
            (pair.partition(": ") for pair in body.split("; ")) if v]


def rows_text(rows: Iterable[Iterable], heading: str = "") -> str:
    """A table's text: the first non-empty row is the header; every later row becomes
    "Row N: header: value; ..." (N as the sheet numbers it, from 1)."""
    blocks = [heading] if heading else []
    header: list[str] | None = None
    for n, row in enumerate(rows, start=1):
        cells = [_cell(v) for v in row]
        if not any(cells):
            continue
        if header is None:
            header = cells
            continue
        pairs = [f"{header[i] if i < len(header) and header[i] else f'column {i + 1}'}: {v}"
                 for i, v in enumerate(cells) if v]
        blocks.append(f"Row {n}: " + "; ".join(pairs) + ".")
    if header is not None and len(blocks) == (1 if heading else 0):
        blocks.append("Columns: " + "; ".join(h for h in header if h) + ".")
    return "\n\n".join(blocks)


def xlsx_text(path: Path, options=None) -> tuple[str, str, tuple[int, ...]]:
    from openpyxl import load_workbook

    book = load_workbook(str(path), read_only=True, data_only=True)
    try:
        sheets = [rows_text(ws.iter_rows(values_only=True), f"Sheet: {ws.title}")
                  for ws in book.worksheets]
        title = (book.properties.title or "").strip() if book.properties else ""
    finally:
        book.close()
    text, starts = join_pages(sheets)
    return text, title, starts


def csv_text(path: Path, options=None) -> tuple[str, str, tuple[int, ...]]:
    raw = path.read_bytes().decode("utf-8-sig")
    try:
        dialect = csv.Sniffer().sniff(raw[:4096], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    return rows_text(csv.reader(raw.splitlines(), dialect)), "", ()
