"""Read NACHA ACH files (94-character fixed-width records).

`parse_nacha` returns one table of text cells, "transaction", with one row per entry
detail record (6). Each row carries its batch header's fields (5), the fields of its
addenda records (7) and the file header's names (1). Column names are the record type
followed by the field name from the NACHA Operating Rules, such as "6.amount (signed)",
"5.effective entry date", "799.return reason code" (addenda type 99) or
"711.originator name" (IAT addenda type 11).

The reader follows the record layouts of the NACHA Operating Rules, including the IAT
batch header, entry detail and addenda 10-18, and the entry detail layouts of the CIE,
CTX, ARC, BOC, RCK and POP standard entry classes.
NOTE: other standard entry classes (MTE, POS, SHR, TRC, TRX, XCK, ENR, ...) are read
with the PPD layout, so their class-specific fields in positions 40-78 keep PPD names.

No PyPI package was used: the only ACH readers listed there (ach 0.2 and nacha 0.1.1,
both from 2014) are unmaintained, and ach 0.2 only slices the PPD layout into strings,
with no IAT layouts and no line positions.

Every batch is checked against its batch control record (entry and addenda count,
total debit and credit amounts), so a cut-off or edited file raises InputFileError
instead of loading part of its entries.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import TYPE_CHECKING


from onboard.errors import InputFileError
from onboard.spec import SourceFormat

if TYPE_CHECKING:
    from onboard.reader import ParsedTable

SOURCE_KIND = "nacha"

RECORD_LENGTH = 94
# Writers that trim trailing blanks shorten a record whose last fields may be blank: the
# file header's reference code (87-94) and the file control's reserved area (56-94).
# Every other record ends with a number, so a short one is damaged.
_MIN_RECORD_LENGTH = {"1": 86, "9": 55}
# ACH amounts are US dollars with two implied decimals, IAT entries included.
CURRENCY = "USD"

# Field layouts as (column, first position, last position), 1-based and inclusive as the
# NACHA Operating Rules number them.
_FILE_HEADER = [
    ("1.immediate destination name", 41, 63),
    ("1.immediate origin name", 64, 86),
]
_BATCH_HEADER = [
    ("5.service class code", 2, 4),
    ("5.company name", 5, 20),
    ("5.company discretionary data", 21, 40),
    ("5.company identification", 41, 50),
    ("5.standard entry class code", 51, 53),
    ("5.company entry description", 54, 63),
    ("5.company descriptive date", 64, 69),
    ("5.effective entry date", 70, 75),
    ("5.settlement date", 76, 78),
    ("5.originating DFI identification", 80, 87),
    ("5.batch number", 88, 94),
]
_IAT_BATCH_HEADER = [
    ("5.service class code", 2, 4),
    ("5.IAT indicator", 5, 20),
    ("5.foreign exchange indicator", 21, 22),
    ("5.foreign exchange reference indicator", 23, 23),
    ("5.foreign exchange reference", 24, 38),
    ("5.ISO destination country code", 39, 40),
    ("5.company identification", 41, 50),
    ("5.standard entry class code", 51, 53),
    ("5.company entry description", 54, 63),
    ("5.ISO originating currency code", 64, 66),
    ("5.ISO destination currency code", 67, 69),
    ("5.effective entry date", 70, 75),
    ("5.settlement date", 76, 78),
    ("5.originating DFI identification", 80, 87),
    ("5.batch number", 88, 94),
]
_ENTRY_COMMON = [
    ("6.transaction code", 2, 3),
    ("6.receiving DFI identification", 4, 11),
    ("6.check digit", 12, 12),
    ("6.addenda record indicator", 79, 79),
    ("6.trace number", 80, 94),
]
# Positions 13-29 and 40-78 by standard entry class. PPD is the default layout.
_ENTRY_LAYOUTS = {
    "PPD": [
        ("6.DFI account number", 13, 29),
        ("6.individual identification number", 40, 54),
        ("6.individual name", 55, 76),
        ("6.discretionary data", 77, 78),
    ],
    # CCD and CTX hold the receiving company's identification and name in these columns.
    "CTX": [
        ("6.DFI account number", 13, 29),
        ("6.individual identification number", 40, 54),
        ("6.number of addenda records", 55, 58),
        ("6.individual name", 59, 74),
    ],
    "CIE": [
        ("6.DFI account number", 13, 29),
        ("6.individual name", 40, 54),
        ("6.individual identification number", 55, 76),
        ("6.discretionary data", 77, 78),
    ],
    "ARC": [
        ("6.DFI account number", 13, 29),
        ("6.check serial number", 40, 54),
        ("6.individual name", 55, 76),
        ("6.discretionary data", 77, 78),
    ],
    "POP": [
        ("6.DFI account number", 13, 29),
        ("6.check serial number", 40, 48),
        ("6.terminal city", 49, 52),
        ("6.terminal state", 53, 54),
        ("6.individual name", 55, 76),
        ("6.discretionary data", 77, 78),
    ],
    "IAT": [
        ("6.number of addenda records", 13, 16),
        ("6.DFI account number", 40, 74),
        ("6.gateway operator OFAC screening indicator", 77, 77),
        ("6.secondary OFAC screening indicator", 78, 78),
    ],
}
_ENTRY_LAYOUTS["BOC"] = _ENTRY_LAYOUTS["RCK"] = _ENTRY_LAYOUTS["ARC"]

_ADDENDA_LAYOUTS = {
    "98": [
        ("798.change code", 4, 6),
        ("798.original entry trace number", 7, 21),
        ("798.original receiving DFI identification", 28, 35),
        ("798.corrected data", 36, 64),
    ],
    "99": [
        ("799.return reason code", 4, 6),
        ("799.original entry trace number", 7, 21),
        ("799.date of death", 22, 27),
        ("799.original receiving DFI identification", 28, 35),
        ("799.addenda information", 36, 79),
    ],
    "10": [
        ("710.transaction type code", 4, 6),
        ("710.foreign payment amount", 7, 24),
        ("710.foreign trace number", 25, 46),
        ("710.receiving company or individual name", 47, 81),
    ],
    "11": [("711.originator name", 4, 38), ("711.originator street address", 39, 73)],
    "12": [("712.originator city and state", 4, 38), ("712.originator country and postal code", 39, 73)],
    "13": [
        ("713.originating DFI name", 4, 38),
        ("713.originating DFI identification number qualifier", 39, 40),
        ("713.originating DFI identification", 41, 74),
        ("713.originating DFI branch country code", 75, 77),
    ],
    "14": [
        ("714.receiving DFI name", 4, 38),
        ("714.receiving DFI identification number qualifier", 39, 40),
        ("714.receiving DFI identification", 41, 74),
        ("714.receiving DFI branch country code", 75, 77),
    ],
    "15": [("715.receiver identification number", 4, 18), ("715.receiver street address", 19, 53)],
    "16": [("716.receiver city and state", 4, 38), ("716.receiver country and postal code", 39, 73)],
    "18": [
        ("718.foreign correspondent bank name", 4, 38),
        ("718.foreign correspondent bank identification number qualifier", 39, 40),
        ("718.foreign correspondent bank identification", 41, 74),
        ("718.foreign correspondent bank branch country code", 75, 77),
    ],
}
# Addenda types 05 (and IAT 17) carry free payment-related information in positions 4-83.
_PAYMENT_INFORMATION = (4, 83)

TRANSACTION_COLUMNS = [
    "1.immediate destination name",
    "1.immediate origin name",
    "5.service class code",
    "5.company name",
    "5.company identification",
    "5.standard entry class code",
    "5.company entry description",
    "5.company descriptive date",
    "5.effective entry date",
    "5.settlement date",
    "5.originating DFI identification",
    "5.batch number",
    "currency",
    "6.transaction code",
    "6.mark",
    "6.amount (cents)",
    "6.amount",
    "6.amount (signed)",
    "6.receiving DFI identification",
    "6.check digit",
    "6.DFI account number",
    "6.individual identification number",
    "6.individual name",
    "6.trace number",
    "6.addenda record indicator",
    "799.return reason code",
    "7.addenda text",
]


class _Batch:
    def __init__(self, header: dict[str, str], line: int):
        self.header = header
        self.line = line
        self.records = 0  # entry detail and addenda records, as the batch control counts them
        self.debits = 0  # cents
        self.credits = 0  # cents


def parse_nacha(raw: bytes, name: str) -> dict[str, ParsedTable]:
    """Parse a NACHA ACH file into a "transaction" table, one row per entry detail record.

    Raises InputFileError, naming the file and the line, for a record that is not 94
    characters long, an unknown record type, or an entry or addenda outside its batch or
    entry. It also raises for a non-numeric amount, for a batch whose control record does
    not match its entries, and for a file that ends before its batch or file control record.
    """
    # onboard.reader dispatches to this module, so it is imported at call time.
    from onboard.reader import decode_text

    text, encoding = decode_text(raw, name)
    file_header: dict[str, str] = {}
    batch: _Batch | None = None
    rows: list[dict[str, str]] = []
    lines: list[int] = []
    addenda_text: list[list[str]] = []
    file_control_seen = False

    for number, record in _records(text, name):
        record_type = record[0]
        if record_type == "1":
            file_header = _cut_fields(record, _FILE_HEADER)
        elif record_type == "5":
            if batch is not None:
                raise _error(name, number, f"batch header record 5 starts a new batch before the batch that starts at line {batch.line} has its batch control record 8")
            batch = _Batch(_batch_header(record), number)
        elif record_type == "6":
            if batch is None:
                raise _error(name, number, "entry detail record 6 comes before any batch header record 5")
            row = _entry_detail(record, batch, file_header, number, name)
            rows.append(row)
            lines.append(number)
            addenda_text.append([])
        elif record_type == "7":
            if batch is None or not rows or lines[-1] < batch.line:
                raise _error(name, number, "addenda record 7 does not follow an entry detail record 6")
            batch.records += 1
            _add_addenda(rows[-1], addenda_text[-1], record)
        elif record_type == "8":
            if batch is None:
                raise _error(name, number, "batch control record 8 comes before any batch header record 5")
            _check_batch_control(record, batch, number, name)
            batch = None
        elif record_type == "9":
            if batch is not None:
                raise _error(name, number, f"file control record 9 comes before the batch control record 8 of the batch that starts at line {batch.line}")
            file_control_seen = True
        else:
            raise _error(name, number, f"record type {record_type!r} is not a NACHA record type (1, 5, 6, 7, 8 or 9)")

    if batch is not None:
        raise InputFileError(name, f"the file ends inside the batch that starts at line {batch.line}, whose batch control record 8 is missing", "Ask the originator for the complete ACH file, because this one looks cut off")
    if not rows and not file_header:
        raise InputFileError(name, "contains no NACHA record, because no line starts with record type 1, 5 or 6", "Check that this is a NACHA ACH file, or ask the originator to export it again")
    if not file_control_seen:
        raise InputFileError(name, "has no file control record 9 at the end", "Ask the originator for the complete ACH file, because this one looks cut off")

    for row, texts in zip(rows, addenda_text):
        row["7.addenda text"] = " ".join(texts)
    return {"transaction": _table(rows, lines, encoding)}


def _records(text: str, name: str) -> list[tuple[int, str]]:
    """Return (physical line, record) pairs without blank lines and 9999... padding records."""
    physical = re.split(r"\r\n|\r|\n", text)
    # Some systems send the records with no line breaks at all. Their records are then
    # numbered as if each were a line.
    if len(physical) <= 2 and len(physical[0]) > RECORD_LENGTH and len(physical[0]) % RECORD_LENGTH == 0:
        chunks = [physical[0][i:i + RECORD_LENGTH] for i in range(0, len(physical[0]), RECORD_LENGTH)]
        physical = chunks + physical[1:]

    records = []
    for number, line in enumerate(physical, start=1):
        if not line.strip():
            continue
        if len(line) > RECORD_LENGTH and not line[RECORD_LENGTH:].strip():
            line = line[:RECORD_LENGTH]
        if line == "9" * RECORD_LENGTH:
            continue  # padding that fills the last block of ten records
        min_length = _MIN_RECORD_LENGTH.get(line[0], RECORD_LENGTH)
        if not min_length <= len(line) <= RECORD_LENGTH:
            raise _error(name, number, f"the record is {len(line)} characters long, but NACHA records are {RECORD_LENGTH}")
        records.append((number, line.ljust(RECORD_LENGTH)))
    return records


def _batch_header(record: str) -> dict[str, str]:
    if record[50:53] == "IAT":
        return _cut_fields(record, _IAT_BATCH_HEADER)
    return _cut_fields(record, _BATCH_HEADER)


def _entry_detail(record: str, batch: _Batch, file_header: dict[str, str], line: int, name: str) -> dict[str, str]:
    cents_text = record[29:39]
    if not cents_text.isdigit():
        raise _error(name, line, f"the entry amount {cents_text.strip()!r} in positions 30-39 is not a number of cents")
    cents = int(cents_text)
    transaction_code = record[1:3]
    mark = _mark(transaction_code)
    if mark == "C":
        batch.credits += cents
    elif mark == "D":
        batch.debits += cents
    batch.records += 1

    amount = Decimal(cents).scaleb(-2)
    row = {column: file_header.get(column, "") for column, _, _ in _FILE_HEADER}
    row.update({column: value for column, value in batch.header.items() if value or column in TRANSACTION_COLUMNS})
    row["currency"] = CURRENCY
    row.update(_cut_fields(record, _ENTRY_COMMON))
    row["6.mark"] = mark
    row["6.amount (cents)"] = cents_text
    row["6.amount"] = format(amount, "f")
    if mark == "D" and cents:
        row["6.amount (signed)"] = format(-amount, "f")
    elif mark:
        row["6.amount (signed)"] = format(amount, "f")
    else:
        row["6.amount (signed)"] = ""
    layout = _ENTRY_LAYOUTS.get(batch.header["5.standard entry class code"], _ENTRY_LAYOUTS["PPD"])
    row.update(_cut_fields(record, layout))
    return row


def _mark(transaction_code: str) -> str:
    """Return "C" or "D" from the transaction code's second digit, or "" for an unknown code.

    Second digits 1-4 are credits (return or notification of change, live, prenote,
    zero-dollar with remittance data) and 5-9 debits, as in 22/27 checking, 32/37
    savings, 42/47 general ledger and 52/55 loan accounts.
    """
    if len(transaction_code) != 2 or not transaction_code.isdigit() or transaction_code[1] == "0":
        return ""
    return "C" if transaction_code[1] in "1234" else "D"


def _add_addenda(row: dict[str, str], texts: list[str], record: str) -> None:
    """Add an addenda record's fields to its entry's row; repeated fields are joined with "; "."""
    addenda_type = record[1:3]
    if addenda_type in ("05", "17"):
        information = record[_PAYMENT_INFORMATION[0] - 1:_PAYMENT_INFORMATION[1]].strip()
        column = f"7{addenda_type}.payment related information"
        # CTX spreads one remittance message over many 05 records, so they join directly.
        row[column] = row.get(column, "") + information
        texts.append(information)
        return
    layout = _ADDENDA_LAYOUTS.get(addenda_type)
    if layout is None:
        row[f"7{addenda_type}.addenda information"] = record[3:83].strip()
        texts.append(record[3:83].strip())
        return
    for column, value in _cut_fields(record, layout).items():
        row[column] = f"{row[column]}; {value}" if row.get(column) else value
    if addenda_type == "99":
        texts.append(row["799.addenda information"])


def _check_batch_control(record: str, batch: _Batch, line: int, name: str) -> None:
    """Raise InputFileError unless the batch control record's counts and totals match the batch."""
    count, debits, credits = record[4:10], record[20:32], record[32:44]
    if not (count.isdigit() and debits.isdigit() and credits.isdigit()):
        raise _error(name, line, "the batch control record's entry count or totals (positions 5-10 and 21-44) are not numbers")
    problems = []
    if int(count) != batch.records:
        problems.append(f"it counts {int(count)} entry and addenda records, the batch has {batch.records}")
    if int(debits) != batch.debits:
        problems.append(f"its total debits are {Decimal(int(debits)).scaleb(-2)}, the entries add up to {Decimal(batch.debits).scaleb(-2)}")
    if int(credits) != batch.credits:
        problems.append(f"its total credits are {Decimal(int(credits)).scaleb(-2)}, the entries add up to {Decimal(batch.credits).scaleb(-2)}")
    if problems:
        raise InputFileError(
            name,
            f"line {line}: the batch control record does not match the batch that starts at line {batch.line}: " + "; ".join(problems),
            "Ask the originator for the ACH file again, because this one is incomplete or was edited",
        )


def _cut_fields(record: str, layout: list[tuple[str, int, int]]) -> dict[str, str]:
    return {column: record[first - 1:last].strip() for column, first, last in layout}


def _error(name: str, line: int, problem: str) -> InputFileError:
    return InputFileError(name, f"line {line}: {problem}", "Ask the originator to send the ACH file again, or check that it is a NACHA file")


def _table(rows: list[dict[str, str]], lines: list[int], encoding: str) -> ParsedTable:
    columns = list(TRANSACTION_COLUMNS)
    for row in rows:
        columns += [column for column in row if column not in columns]
    from onboard.standards.iso20022 import make_table

    source = SourceFormat(kind=SOURCE_KIND, encoding=encoding, delimiter=None, quotechar=None, columns=columns)
    return make_table(rows, columns, lines, [], source)
