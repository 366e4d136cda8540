"""Read a client file into a table of text cells.

Detects the file kind (delimited text, .xlsx, .xls, JSON), the text encoding, the delimiter
and the header row, skipping title and preamble lines above the header as real bank exports
have them. Every cell stays text: types are decided later, per column, by the profiler and
the transforms, never by the reader.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from onboard.errors import InputFileError
from onboard.spec import SourceFormat

DELIMITERS = [";", ",", "\t", "|"]
# Bounds that keep a hostile file from exhausting time or memory; a bank export of
# transactions stays far below them.
MAX_FILE_BYTES = 1 << 30
MAX_LINE_BYTES = 8 << 20
MAX_XLSX_UNCOMPRESSED = 512 << 20
MAX_XLSX_RATIO = 200
MAX_JSON_DEPTH = 64
SCAN_LINES = 80
MAX_CELL_CHARS = 100_000
# Files at least this large are read chunk by chunk when they are plain delimited text;
# their format is detected on the first STREAM_HEAD_BYTES.
STREAM_MIN_BYTES = 32 << 20
STREAM_HEAD_BYTES = 4 << 20
_NUMERIC_OR_DATE = re.compile(r"^[+-]?[\d.,' /:-]+$|^\d{1,4}[./-]\d{1,2}[./-]\d{1,4}")


@dataclass
class ParsedTable:
    frame: pd.DataFrame
    source: SourceFormat
    line_numbers: list[int]
    bad_rows: list[dict] = field(default_factory=list)
    entity: str | None = None

    @property
    def data_rows(self) -> int:
        """Data rows in the file: the rows read plus the rows that could not be read."""
        return len(self.frame) + len(self.bad_rows)


def read_table(path: Path, display_name: str | None = None, entity: str | None = None) -> ParsedTable:
    """Read `path` into one table, or raise InputFileError with what to do.

    A banking-standard file carries one table per entity (statement lines as transactions,
    the statement's account as an account); `entity` picks one, and otherwise the
    transactions are taken when there are any.
    """
    name = display_name or str(path)
    tables = read_tables(path, name)
    if len(tables) == 1:
        return next(iter(tables.values()))
    if entity in tables:
        chosen = tables[entity]
    else:
        filled = [key for key, table in tables.items() if len(table.frame)]
        chosen = tables["transaction"] if "transaction" in filled else tables[(filled or list(tables))[0]]
    if chosen.frame.empty and not chosen.bad_rows:
        raise InputFileError(name, f"holds no {entity or 'transaction'} records (it has: {', '.join(k for k, t in tables.items() if len(t.frame)) or 'none'})", "Pass --entity with one of the entities the file holds")
    return chosen


def detect_standard(raw: bytes) -> str | None:
    """Name of the banking standard a file is written in, or None for plain tables."""
    head = raw[:8192].lstrip(b"\x01\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<") or head.startswith(b"OFXHEADER"):
        if b"OFX" in head[:2048].upper() and (head.startswith(b"OFXHEADER") or b"<OFX" in head.upper()):
            return "ofx"
        if re.search(rb"camt\.05[234]|pain\.00[18]|<(\w+:)?BkToCstmr|<(\w+:)?CstmrCdtTrfInitn|<(\w+:)?CstmrDrctDbtInitn", head):
            return "iso20022"
        if head.startswith(b"<?xml") or head.startswith(b"<"):
            return "xml"
    if head.startswith((b"!Type:", b"!Account", b"!Option", b"!Clear")):
        return "qif"
    if head.startswith(b"01,") and re.search(rb"(^|[/\n])\s*0[23],", head):
        return "bai2"
    first_line = head.split(b"\n", 1)[0].rstrip(b"\r")
    if first_line.startswith(b"101") and 80 <= len(first_line) <= 94:
        return "nacha"
    if head.startswith(b"{1:") or (re.search(rb"(^|\n):20:", head) and re.search(rb"\n:(25|28C?|60[FM]|61|34F):", head)):
        return "swift_mt"
    return None


def read_tables(path: Path, display_name: str | None = None) -> dict[str, ParsedTable]:
    """Read `path` into its tables: one for a plain table file, one per entity for a standard."""
    name = display_name or str(path)
    if not path.exists():
        raise InputFileError(name, "file not found", "Check the path and try again")
    if path.is_dir():
        raise InputFileError(name, "is a folder, not a file", "Pass the client's data file")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise InputFileError(name, f"is {size:,} bytes, above the {MAX_FILE_BYTES:,}-byte limit for one file", "Split the export into smaller files")
    raw = path.read_bytes()
    if not raw.strip(b"\x00 \t\r\n\xef\xbb\xbf"):
        raise InputFileError(name, "the file is empty", "Ask the client to send the export again")

    suffix = path.suffix.lower()
    if raw[:4] == b"PK\x03\x04" or suffix == ".xlsx":
        rows, sheet = _read_xlsx(raw, name)
        return {"table": _table_from_rows(rows, name, SourceFormat(kind="xlsx", sheet=sheet), line_offset=1)}
    if raw[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" or suffix == ".xls":
        rows, sheet = _read_xls(raw, name)
        return {"table": _table_from_rows(rows, name, SourceFormat(kind="xls", sheet=sheet), line_offset=1)}
    _check_line_lengths(raw, name)
    standard = detect_standard(raw)
    if standard == "xml":
        raise InputFileError(name, "is XML but neither ISO 20022 camt.052/053/054 or pain.001/008 nor OFX", "Send the statement as camt.053, MT940, OFX or CSV")
    if standard:
        return _read_standard(standard, raw, name)

    text, encoding = decode_text(raw, name)
    stripped = text.lstrip()
    if suffix == ".json":
        return {"table": _read_json(text, name, encoding)}
    if stripped[:1] in ("[", "{"):
        # Text that starts like JSON is JSON only if it parses; "[Datum];[Betrag]" is a header.
        try:
            return {"table": _read_json(text, name, encoding)}
        except InputFileError:
            pass
    return {"table": _read_delimited(text, name, encoding)}


def _read_standard(standard: str, raw: bytes, name: str) -> dict[str, ParsedTable]:
    from onboard.standards import bai2, iso20022, nacha, ofx_qif, swift_mt

    parsers = {
        "swift_mt": swift_mt.parse_mt,
        "bai2": bai2.parse_bai2,
        "nacha": nacha.parse_nacha,
        "iso20022": iso20022.parse_iso20022,
        "ofx": ofx_qif.parse_ofx,
        "qif": ofx_qif.parse_qif,
    }
    tables = parsers[standard](raw, name)
    for key, table in tables.items():
        table.entity = key
    if not any(len(t.frame) or t.bad_rows for t in tables.values()):
        raise InputFileError(name, f"is a {standard} file with no records", "Ask the client for a file that contains statements or payments")
    return tables


def _check_line_lengths(raw: bytes, name: str) -> None:
    """Reject a line longer than MAX_LINE_BYTES before any parser reads it."""
    start, line = 0, 1
    while start < len(raw):
        end = raw.find(b"\n", start)
        end = len(raw) if end < 0 else end
        if end - start > MAX_LINE_BYTES:
            raise InputFileError(
                name,
                f"line {line} is {end - start:,} bytes long, above the {MAX_LINE_BYTES:,}-byte limit for one line",
                "Check that the file is a line-based export and not binary data or one huge record",
            )
        start, line = end + 1, line + 1


def _utf8_error(raw: bytes, error: UnicodeDecodeError, name: str, offset: int = 0) -> InputFileError:
    position = error.start + offset
    line = raw.count(b"\n", 0, position) + 1
    return InputFileError(
        name,
        f"starts with a UTF-8 byte order mark but byte {position} (line {line}) is not valid UTF-8",
        "Export the file again as UTF-8, or without the byte order mark in its real encoding",
    )


def decode_text(raw: bytes, name: str) -> tuple[str, str]:
    """Decode bytes as UTF-8 (with or without BOM), else the best single-byte guess."""
    if b"\x00" in raw[:4096]:
        raise InputFileError(
            name,
            "contains NUL bytes, so it is binary data or UTF-16 text, not a delimited text table",
            "Export the data as CSV (UTF-8 or a single-byte encoding), .xlsx or JSON",
        )
    if raw.startswith(b"\xef\xbb\xbf"):
        try:
            return raw[3:].decode("utf-8", errors="strict"), "utf-8-sig"
        except UnicodeDecodeError as error:
            raise _utf8_error(raw, error, name, offset=3) from None
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    encoding = _guess_single_byte(raw)
    text = raw.decode(encoding, errors="strict")
    controls = sum(1 for ch in text[:20000] if ord(ch) < 32 and ch not in "\r\n\t\x1a\x0c")
    if controls > max(5, len(text[:20000]) // 100):
        raise InputFileError(
            name,
            "is not readable text in any supported encoding (too many control characters)",
            "Export the data as CSV, .xlsx or JSON",
        )
    return text, encoding


def _guess_single_byte(raw: bytes) -> str:
    from charset_normalizer import from_bytes

    best = from_bytes(raw[:200_000]).best()
    guess = best.encoding if best is not None else None
    # Western European exports are the common case; charset_normalizer's guess between
    # close code pages is unstable on short files, so it is only trusted for
    # scripts that cp1252 cannot represent (Central European, Cyrillic, Greek, ...).
    if guess in {"cp1250", "cp1251", "cp1253", "iso8859_2", "iso8859_5", "koi8_r", "cp1257"}:
        try:
            # German text decodes the same in cp1250 and cp1252; report the usual name then.
            if raw.decode(guess) != raw.decode("cp1252"):
                return guess
        except UnicodeDecodeError:
            return guess
    try:
        raw.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        return "latin-1"


def _split_lines(text: str, delimiter: str) -> tuple[list[list[str]], list[int]]:
    """Parse delimited text; returns the records and the physical line each one starts on."""
    csv.field_size_limit(MAX_CELL_CHARS * 10)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"', strict=False)
    rows, starts = [], []
    next_start = 1
    for row in reader:
        rows.append(row)
        starts.append(next_start)
        # A quoted cell with line breaks makes one record span several physical lines.
        next_start = reader.line_num + 1
    return rows, starts


def _choose_delimiter(text: str) -> str:
    sample_lines = text.splitlines()[:SCAN_LINES]
    sample = "\n".join(sample_lines)
    best, best_score = None, 0
    for delimiter in DELIMITERS:
        counts = [len(row) for row in csv.reader(io.StringIO(sample), delimiter=delimiter) if row]
        counts = [c for c in counts if c > 1]
        if not counts:
            continue
        modal, frequency = Counter(counts).most_common(1)[0]
        score = frequency * 1000 + modal
        if score > best_score:
            best, best_score = delimiter, score
    return best or ","


def _looks_like_value(cell: str) -> bool:
    cell = cell.strip()
    return bool(cell) and bool(_NUMERIC_OR_DATE.match(cell))


def _find_header(rows: list[list[str]]) -> tuple[int | None, int]:
    """Return (header row index or None, first data row index)."""
    widths = [len([c for c in row]) for row in rows[:SCAN_LINES * 4]]
    nonempty = [i for i, row in enumerate(rows) if any(c.strip() for c in row)]
    if not nonempty:
        return None, 0
    # The data width is the most common width among the last scanned non-empty rows.
    tail_rows = [i for i in nonempty if i < len(widths)][-SCAN_LINES:]
    data_width = Counter(widths[i] for i in tail_rows).most_common(1)[0][0]
    # A header names (nearly) every column the data rows fill; a key;value preamble line
    # fills two cells and must not pass for the header of a three-column table.
    filled_counts = sorted(sum(1 for c in rows[i] if c.strip()) for i in tail_rows if widths[i] == data_width)
    # The upper quartile: title rows padded to the sheet width must not drag it down.
    data_filled = filled_counts[(3 * len(filled_counts)) // 4] if filled_counts else data_width
    needed = max(1, math.ceil(0.8 * min(data_width, max(data_filled, 1))))
    for index in nonempty:
        row = rows[index]
        filled = [c for c in row if c.strip()]
        if len(row) < data_width - 1 or len(filled) < needed:
            continue
        value_share = sum(_looks_like_value(c) for c in filled) / len(filled)
        if value_share >= 0.34:
            return None, index
        return index, index + 1
    return None, nonempty[0]


def _unique_names(header: list[str]) -> list[str]:
    names: list[str] = []
    taken: set[str] = set()
    for position, raw_name in enumerate(header, start=1):
        base = raw_name.strip().strip("\ufeff") or f"column_{position}"
        name, suffix = base, 1
        while name in taken:
            suffix += 1
            name = f"{base}_{suffix}"
        taken.add(name)
        names.append(name)
    return names


def _preamble(rows: list[list[str]]) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for row in rows:
        cells = [c.strip() for c in row if c.strip()]
        if len(cells) >= 2 and len(cells[0]) <= 40:
            pairs[cells[0]] = " ".join(cells[1:])
    return pairs


def _table_from_rows(rows: list[list[str]], name: str, source: SourceFormat, line_offset: int = 1, starts: list[int] | None = None) -> ParsedTable:
    """Build the table from parsed rows; `starts` gives each row's physical line (default: index + line_offset)."""
    starts = starts or [i + line_offset for i in range(len(rows))]
    header_index, first_data = _find_header(rows)
    if header_index is None and first_data > 0:
        raise InputFileError(
            name,
            f"no header row found: line {starts[first_data]} looks like data but lines above it do not match its layout",
            "Remove the lines above the table or add a header row",
        )
    if header_index is not None:
        columns = _unique_names(rows[header_index])
        source.header_row = header_index
    else:
        width = Counter(len(r) for r in rows if any(c.strip() for c in r)).most_common(1)[0][0]
        columns = [f"column_{i}" for i in range(1, width + 1)]
        source.header_row = None
    source.skip_top = first_data
    source.preamble = _preamble(rows[:header_index]) if header_index else {}

    records: list[list[str]] = []
    line_numbers: list[int] = []
    bad_rows: list[dict] = []
    width = len(columns)
    for index in range(first_data, len(rows)):
        _take_row(rows[index], starts[index], width, records, line_numbers, bad_rows)

    frame = pd.DataFrame(records, columns=columns, dtype=object)
    # A trailing delimiter on every line creates an empty, unnamed last column.
    for column in list(frame.columns):
        if column.startswith("column_") and header_index is not None and not frame[column].str.strip().any():
            frame = frame.drop(columns=[column])
    if frame.empty:
        raise InputFileError(name, "has a header but no data rows", "Ask the client for an export that contains rows")
    source.columns = list(frame.columns)
    return ParsedTable(frame=frame, source=source, line_numbers=line_numbers, bad_rows=bad_rows)


def _take_row(row: list[str], line: int, width: int, records: list, line_numbers: list, bad_rows: list) -> None:
    """Append one parsed record as a row of `width` cells, or as a bad row with its reason."""
    if not any(c.strip() for c in row):
        return
    if len(row) > width:
        extra = [c for c in row[width:] if c.strip()]
        if extra:
            bad_rows.append({"line": line, "reason": f"{len(row)} fields where the header has {width}"})
            return
        row = row[:width]
    if len(row) < width:
        row = row + [""] * (width - len(row))
    if any(len(c) > MAX_CELL_CHARS for c in row):
        bad_rows.append({"line": line, "reason": f"a cell longer than {MAX_CELL_CHARS} characters"})
        return
    records.append(row)
    line_numbers.append(line)


@dataclass
class StreamedTable:
    """A large delimited file read chunk by chunk: its format from the head, then its rows."""

    source: SourceFormat
    chunks: Iterator[ParsedTable]


def stream_table(path: Path, display_name: str | None = None, chunk_rows: int = 50_000) -> StreamedTable | None:
    """Read a large plain delimited text file in chunks of `chunk_rows` rows, in bounded memory.

    The format (encoding, delimiter, header, preamble) is detected on the file's first
    STREAM_HEAD_BYTES exactly as `read_table` would detect it; the rest is parsed record by
    record with the same row checks. Returns None for a file that is small or not plain
    delimited text (a spreadsheet, JSON or a banking standard): read it with `read_table`.
    """
    name = display_name or str(path)
    if not path.is_file() or path.stat().st_size < STREAM_MIN_BYTES:
        return None
    if path.stat().st_size > MAX_FILE_BYTES:
        raise InputFileError(name, f"is {path.stat().st_size:,} bytes, above the {MAX_FILE_BYTES:,}-byte limit for one file", "Split the export into smaller files")
    with path.open("rb") as handle:
        head = handle.read(STREAM_HEAD_BYTES)
    head = head[: head.rfind(b"\n") + 1] or head
    if head[:4] == b"PK\x03\x04" or head[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" or path.suffix.lower() in (".xlsx", ".xls", ".json"):
        return None
    _check_line_lengths(head, name)
    if detect_standard(head) or head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"[", b"{", b"<"):
        return None
    text, encoding = decode_text(head, name)
    delimiter = _choose_delimiter(text)
    rows, _ = _split_lines(text, delimiter)
    sample = _table_from_rows(rows, name, SourceFormat(kind="csv", encoding=encoding, delimiter=delimiter))
    source = sample.source
    header_index, _ = _find_header(rows)
    if header_index is not None:
        columns = _unique_names(rows[header_index])
    else:
        width = Counter(len(r) for r in rows if any(c.strip() for c in r)).most_common(1)[0][0]
        columns = [f"column_{i}" for i in range(1, width + 1)]
    return StreamedTable(source=source, chunks=_chunks(path, name, source, columns, chunk_rows))


def check_readable(path: Path, display_name: str | None = None, entity: str | None = None) -> None:
    """Raise InputFileError when `path` cannot be read, reading a large delimited file's first rows only.

    A caller checks a file before it starts a run; reading a large file whole here would hold
    it all in this process's memory.
    """
    streamed = stream_table(path, display_name, 1000)
    if streamed is None:
        read_table(path, display_name, entity)
        return
    if next(streamed.chunks, None) is None:
        raise InputFileError(display_name or str(path), "has a header but no data rows", "Ask the client for an export that contains rows")


def _chunks(path: Path, name: str, source: SourceFormat, columns: list[str], chunk_rows: int) -> Iterator[ParsedTable]:
    csv.field_size_limit(MAX_CELL_CHARS * 10)
    width, kept = len(columns), source.columns
    with path.open("r", encoding=source.encoding, newline="") as handle:
        reader = csv.reader(handle, delimiter=source.delimiter, quotechar='"', strict=False)
        records: list[list[str]] = []
        lines: list[int] = []
        bad: list[dict] = []
        next_start = 1
        index = 0
        try:
            for row in reader:
                line, next_start = next_start, reader.line_num + 1
                index += 1
                if index <= source.skip_top:
                    continue
                _take_row(row, line, width, records, lines, bad)
                if len(records) >= chunk_rows:
                    yield ParsedTable(frame=pd.DataFrame(records, columns=columns, dtype=object)[kept], source=source, line_numbers=lines, bad_rows=bad)
                    records, lines, bad = [], [], []
        except UnicodeDecodeError as error:
            raise InputFileError(name, f"is not valid {source.encoding} after line {next_start - 1} ({error.reason})", "Export the whole file in one encoding, UTF-8 preferred") from None
        except csv.Error as error:
            raise InputFileError(name, f"line {next_start}: {error}", "Check that the file is a line-based export and not binary data") from None
        if records or bad:
            yield ParsedTable(frame=pd.DataFrame(records, columns=columns, dtype=object)[kept], source=source, line_numbers=lines, bad_rows=bad)


def _read_delimited(text: str, name: str, encoding: str) -> ParsedTable:
    delimiter = _choose_delimiter(text)
    rows, starts = _split_lines(text, delimiter)
    source = SourceFormat(kind="csv", encoding=encoding, delimiter=delimiter)
    return _table_from_rows(rows, name, source, starts=starts)


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        # repr is the shortest text that round-trips, so 1500.5 stays "1500.5".
        return repr(value)[:-2] if value.is_integer() and abs(value) < 1e15 else repr(value)
    return str(value)


def _check_zip(raw: bytes, name: str) -> None:
    """Refuse a workbook whose parts would expand without bound (a zip bomb)."""
    import zipfile

    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
    except zipfile.BadZipFile:
        raise InputFileError(name, "is not a readable .xlsx workbook (not a zip archive)", "Open it in a spreadsheet program and save it again as .xlsx or CSV") from None
    total = 0
    for info in archive.infolist():
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if total > MAX_XLSX_UNCOMPRESSED or (info.file_size > (1 << 20) and ratio > MAX_XLSX_RATIO):
            raise InputFileError(
                name,
                f"workbook part {info.filename!r} expands to {info.file_size:,} bytes ({ratio:.0f} times its compressed size), which looks like a zip bomb",
                "Ask the client for a CSV export or a normally saved workbook",
            )


def _read_xlsx(raw: bytes, name: str) -> tuple[list[list[str]], str]:
    import openpyxl

    _check_zip(raw, name)
    try:
        book = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many types for a damaged workbook
        raise InputFileError(name, f"is not a readable .xlsx workbook ({type(error).__name__})", "Open it in a spreadsheet program and save it again as .xlsx or CSV") from None
    sheet = book.worksheets[0]
    rows = [[_cell_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    return rows, sheet.title


def _read_xls(raw: bytes, name: str) -> tuple[list[list[str]], str]:
    import xlrd

    try:
        book = xlrd.open_workbook(file_contents=raw)
    except Exception as error:  # xlrd raises its own and struct errors for damaged files
        raise InputFileError(name, f"is not a readable .xls workbook ({type(error).__name__})", "Open it in a spreadsheet program and save it again as .xlsx or CSV") from None
    sheet = book.sheet_by_index(0)
    rows = []
    for r in range(sheet.nrows):
        cells = []
        for c in range(sheet.ncols):
            cell = sheet.cell(r, c)
            if cell.ctype == xlrd.XL_CELL_DATE:
                cells.append(_cell_text(xlrd.xldate.xldate_as_datetime(cell.value, book.datemode)))
            else:
                cells.append(_cell_text(cell.value))
        rows.append(cells)
    return rows, sheet.name


def _depth(data, limit: int = MAX_JSON_DEPTH + 1) -> int:
    """Nesting depth of parsed JSON, counted without recursion and stopping past `limit`."""
    deepest, stack = 0, [(data, 1)]
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if deepest > limit:
            return deepest
        if isinstance(item, dict):
            stack.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, level + 1) for v in item)
    return deepest


def _find_records(data, path: str = "") -> tuple[list, str] | None:
    if isinstance(data, list) and data and all(isinstance(item, dict) for item in data):
        return data, path
    if isinstance(data, dict):
        for key, value in data.items():
            found = _find_records(value, f"{path}.{key}" if path else key)
            if found:
                return found
    return None


def _json_cell_text(value) -> str:
    """Text of one flattened JSON value: empty for null, JSON for a nested list or object."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


def _read_json(text: str, name: str, encoding: str) -> ParsedTable:
    try:
        # parse_float keeps numbers as their exact text, never a binary float.
        data = json.loads(text, parse_float=str, parse_int=str)
    except json.JSONDecodeError as error:
        raise InputFileError(name, f"is not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})", "Fix the JSON or export the data as CSV") from None
    except RecursionError:
        raise InputFileError(name, "nests JSON too deeply to be a table", "Export the records as a flat list") from None
    if _depth(data) > MAX_JSON_DEPTH:
        raise InputFileError(name, f"nests JSON more than {MAX_JSON_DEPTH} levels deep", "Export the records as a flat list of objects")
    found = _find_records(data)
    if not found:
        raise InputFileError(name, "contains no list of records", "Export the records as a JSON list of objects")
    records, record_path = found
    frame = pd.json_normalize(records, sep=".")
    frame = frame.map(_json_cell_text)
    frame = frame.astype(object)
    source = SourceFormat(kind="json", encoding=encoding, record_path=record_path or None, columns=list(frame.columns))
    return ParsedTable(frame=frame, source=source, line_numbers=list(range(1, len(frame) + 1)))
