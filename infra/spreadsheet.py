"""CSV that a spreadsheet opens as plain text: no cell is taken for a formula (CSV injection).

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return (which Excel,
LibreOffice and Google Sheets may evaluate), or with the apostrophe itself, gets an apostrophe in
front. The apostrophe is the only change, so a reader gets the stored text back by dropping one
leading apostrophe from any cell that has one."""

import csv
import io
from collections.abc import Iterable, Sequence

ESCAPE = "'"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """``value`` as a cell's text (None: empty), neutralised if it could start a formula."""
    text = "" if value is None else str(value)
    return ESCAPE + text if text.startswith((*FORMULA_STARTS, ESCAPE)) else text


def csv_text(header: Sequence[str], rows: Iterable[Iterable[object]]) -> str:
    """The header and the rows as CSV (RFC 4180: quoted where needed, CRLF), every cell safe."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([safe_cell(cell) for cell in header])
    writer.writerows([safe_cell(cell) for cell in row] for row in rows)
    return out.getvalue()
