"""CSV as Dutch offices open it: one writer for every export of Brug.

- ``;`` between cells: a spreadsheet program in a Dutch locale reads a comma-separated file
  as one column (the decimal separator is the comma there);
- a byte-order mark first, so it reads the file as UTF-8 (names with ë, é, ç);
- CRLF line ends, as RFC 4180 says;
- no cell that a spreadsheet would run as a formula (OWASP "CSV injection"): a cell that
  starts with = + - @, a tab, CR or LF gets a leading apostrophe and stays text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def csv_safe(value: object) -> str:
    """A cell a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def to_csv(rows: Iterable[Iterable[object]]) -> str:
    """The rows as a CSV document, every cell through ``csv_safe``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    for row in rows:
        writer.writerow([csv_safe(cell) for cell in row])
    return "\ufeff" + buffer.getvalue()
