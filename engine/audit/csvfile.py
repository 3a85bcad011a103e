"""The one way the app writes CSV: UTF-8 with a BOM (so spreadsheet programs show the Chinese), CRLF
rows, and no cell a spreadsheet would run as a formula.

Excel, WPS and LibreOffice take a cell starting with = + - or @ as a formula, and some strip a leading tab
or carriage return first; names in the exports come from designers (a step called `=HYPERLINK(…)`, a lane
`@SUM(1+1)`) and from residents. Such a text cell gets a leading apostrophe (OWASP's advice on CSV
injection): the programs then show it as text, and a reader sees where it was changed. Numbers, and text that
is just a number (`-3`, `0.25`), are left as they are. (The `defusedcsv` package does the same but misses
the tab and carriage return.)
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[-+]?[0-9][0-9,]*(\.[0-9]+)?")


def cell(value: Any) -> Any:
    """A value as it may go into a CSV cell: text a spreadsheet would run is neutralised."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """A whole CSV file: the header row, then each row, every cell through `cell`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([cell(v) for v in header])
    writer.writerows([cell(v) for v in row] for row in rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")
