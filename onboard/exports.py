"""CSV exports for people: rejected rows sent back to a client or opened in a spreadsheet.

A cell that starts with =, +, -, @, a tab or a carriage return is a formula to a spreadsheet
program (CSV injection), so it is written with a leading apostrophe, which spreadsheets show
as text. Numbers such as -12.50 are data, not formulas, and stay as they are.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"^[+-]?\d+([.,]\d+)?$")


def escape_formula(cell) -> str:
    text = "" if cell is None else str(cell)
    if text.startswith(FORMULA_START) and not PLAIN_NUMBER.match(text):
        return "'" + text
    return text


def write_csv(path: Path, header: list[str], rows: list[list]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([escape_formula(h) for h in header])
        for row in rows:
            writer.writerow([escape_formula(c) for c in row])
