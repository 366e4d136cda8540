"""Read BAI2 cash-management (balance reporting) files.

`parse_bai2` returns two tables of text cells: "transaction" with one row per 16
(transaction detail) record and "account" with one row per 03 (account identifier)
record. Column names are the record code followed by the field name, such as
"16.amount (signed)" or "03.customer account number".

The reader follows the BAI Cash Management Balance Reporting Specifications, version 2:
comma-separated fields, a `/` that ends a record, 88 records that continue the record
before them, and amounts in the currency's minor units. It also accepts what real files
do: several records on one physical line, records without the final `/`, a 16 record
that wraps onto the next physical line without an 88, and trailing spaces.

It does not use the PyPI package bai2 (0.15.0, tried on the sample files this reader is
tested with). That package raises ValueError when several records share a physical line,
and its integrity check counts the records of an account without the 88 records, so it
rejects valid files unless the check is switched off. It also returns no line positions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING


from onboard.errors import InputFileError
from onboard.spec import SourceFormat

if TYPE_CHECKING:
    from onboard.reader import ParsedTable

SOURCE_KIND = "bai2"

RECORD_CODES = ("01", "02", "03", "16", "49", "88", "98", "99")
_RECORD_START = re.compile(r"^\s*(\d{2}),")
# A record that ends with "/" may be followed by the next record on the same line.
_NEXT_RECORD = re.compile(r"/\s*(?=(?:" + "|".join(RECORD_CODES) + r"),)")
_AMOUNT = re.compile(r"^[+-]?\d+$")

# BAI2 amounts carry no decimal point, so the decimal places follow from the currency code.
# These are the currencies whose ISO 4217 minor unit is not 2. Every other currency has 2
# implied decimals, and so has an empty code, which BAI2 reads as US dollars.
# NOTE: a bank may still send one of these currencies with 2 implied decimals. The file does
# not state the decimals, so such amounts come out 100 times too large or too small.
_DECIMALS = {
    **dict.fromkeys(["BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF"], 0),
    **dict.fromkeys(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"], 3),
    **dict.fromkeys(["CLF", "UYW"], 4),
}
DEFAULT_CURRENCY = "USD"

# Names of the status and summary type codes that banks send most often in 03 records.
_TYPE_CODE_NAMES = {
    "010": "opening ledger",
    "011": "average opening ledger MTD",
    "012": "average opening ledger YTD",
    "015": "closing ledger",
    "020": "average closing ledger MTD",
    "021": "average closing ledger previous month",
    "022": "aggregate balance adjustments",
    "024": "average closing ledger YTD previous month",
    "025": "average closing ledger YTD",
    "030": "current ledger",
    "037": "ACH net position",
    "040": "opening available",
    "041": "average opening available MTD",
    "042": "average opening available YTD",
    "043": "average available previous month",
    "044": "disbursing opening available balance",
    "045": "closing available",
    "050": "average closing available MTD",
    "060": "current available",
    "100": "total credits",
    "400": "total debits",
}

TRANSACTION_COLUMNS = [
    "02.as-of date",
    "03.customer account number",
    "currency",
    "16.type code",
    "16.mark",
    "16.amount (minor units)",
    "16.amount",
    "16.amount (signed)",
    "16.funds type",
    "16.bank reference",
    "16.customer reference",
    "16.text",
]
ACCOUNT_COLUMNS = [
    "02.originator identification",
    "02.as-of date",
    "02.as-of time",
    "03.customer account number",
    "currency",
]


@dataclass
class _Record:
    code: str
    line: int
    content: str
    # True once the record's own "/" was seen, so a following line is a new record.
    closed: bool


def parse_bai2(raw: bytes, name: str) -> dict[str, ParsedTable]:
    """Parse a BAI2 file into "transaction" and "account" tables.

    Raises InputFileError, naming the file and the line, for text outside a record, an
    unknown record code or an 88 with no record before it. It also raises for a 16 outside
    an account and for an amount that is not a whole number of minor units.
    """
    # onboard.reader dispatches to this module, so it is imported at call time.
    from onboard.reader import decode_text

    text, encoding = decode_text(raw, name)
    records = _merge_continuations(_records(text, name), name)
    if not records:
        raise InputFileError(name, "contains no BAI2 record, because no line starts with a record code such as 01,", "Check that this is a BAI2 file, or ask the bank to export it again")

    group: dict[str, str] = {}
    account: dict[str, str] | None = None
    accounts: list[dict[str, str]] = []
    account_lines: list[int] = []
    transactions: list[dict[str, str]] = []
    transaction_lines: list[int] = []
    for record in records:
        fields = record.content.split(",")
        if record.code == "02":
            group = _group_header(fields)
            account = None
        elif record.code == "03":
            account = _account_identifier(fields, group, record.line, name)
            accounts.append(account)
            account_lines.append(record.line)
        elif record.code == "16":
            if account is None:
                raise InputFileError(name, f"line {record.line}: transaction detail record 16 comes before any 03 account identifier record", "Ask the bank for the complete BAI2 file, in which each account starts with a 03 record")
            transactions.append(_transaction_detail(record.content, account, record.line, name))
            transaction_lines.append(record.line)
        elif record.code == "49" and account is not None:
            account["49.account control total"] = _amount_text(_field(fields, 0), account["currency"], record.line, name)
            account["49.number of records"] = _field(fields, 1)
            account = None
        elif record.code == "98":
            group = {}
            account = None

    return {
        "transaction": _table(transactions, transaction_lines, TRANSACTION_COLUMNS, encoding),
        "account": _table(accounts, account_lines, ACCOUNT_COLUMNS, encoding),
    }


def _records(text: str, name: str) -> list[_Record]:
    """Split the text into records, remembering the physical line each one starts on."""
    records: list[_Record] = []
    for number, line in enumerate(re.split(r"\r\n|\r|\n", text), start=1):
        line = line.rstrip()
        if not line:
            continue
        start = _RECORD_START.match(line)
        if start:
            if start.group(1) not in RECORD_CODES:
                raise InputFileError(name, f"line {number}: {start.group(1)!r} is not a BAI2 record code (01, 02, 03, 16, 49, 88, 98 or 99)", "Check that this is a BAI2 file, or ask the bank to export it again")
            pieces = _NEXT_RECORD.split(line.strip())
        else:
            # The text of a 16 or 88 record may wrap onto the next physical line.
            if not records or records[-1].closed or records[-1].code not in ("16", "88"):
                raise InputFileError(name, f"line {number}: text outside any BAI2 record (a record starts with a two-digit record code and a comma)", "Check that this is a BAI2 file, or ask the bank to export it again")
            head, *pieces = _NEXT_RECORD.split(line.strip())
            closed = head.endswith("/") or bool(pieces)
            records[-1].content = _join_text(records[-1].content, head.removesuffix("/"))
            records[-1].closed = closed
        for index, piece in enumerate(pieces):
            code, _, content = piece.partition(",")
            # _NEXT_RECORD consumed the "/" of every piece but the last.
            closed = index < len(pieces) - 1 or content.endswith("/")
            records.append(_Record(code=code, line=number, content=_end_of_record(code, content), closed=closed))
    return records


def _end_of_record(code: str, content: str) -> str:
    """Return the record's fields without the "/" that ends the record."""
    if code == "16" or code == "88":
        # Text may contain "/", so only a final one ends a 16 or 88 record.
        return content.removesuffix("/")
    return content.split("/", 1)[0]


def _merge_continuations(records: list[_Record], name: str) -> list[_Record]:
    """Append each 88 record to the record it continues."""
    merged: list[_Record] = []
    for record in records:
        if record.code != "88":
            merged.append(record)
            continue
        if not merged:
            raise InputFileError(name, f"line {record.line}: continuation record 88 has no record before it to continue", "Ask the bank to export the BAI2 file again, because it looks cut off at the start")
        previous = merged[-1]
        if previous.code == "16" and _text_started(previous.content):
            previous.content = _join_text(previous.content, record.content)
        else:
            previous.content = f"{previous.content},{record.content}"
    return merged


def _join_text(text: str, more: str) -> str:
    if not text or text[-1:].isspace() or more[:1].isspace():
        return text + more
    return f"{text} {more}"


def _funds_type_width(fields: list[str], position: int) -> int:
    """Return how many fields the funds type at `position` and its details take."""
    funds_type = _field(fields, position).upper()
    if funds_type == "V":
        return 3  # type, value date, value time
    if funds_type == "S":
        return 4  # type, immediate, one-day and two-or-more-day availability
    if funds_type == "D":
        count = _field(fields, position + 1)
        return 2 + 2 * int(count) if count.isdigit() else 2  # type, count, (days, amount) pairs
    return 1


def _text_started(content: str) -> bool:
    """Return whether a 16 record's content already reaches its text field."""
    fields = content.split(",")
    text_position = 2 + _funds_type_width(fields, 2) + 2
    return len(fields) > text_position


def _group_header(fields: list[str]) -> dict[str, str]:
    return {
        "02.originator identification": _field(fields, 1),
        "02.as-of date": _field(fields, 3),
        "02.as-of time": _field(fields, 4),
        "02.currency": _field(fields, 5).upper(),
    }


def _account_identifier(fields: list[str], group: dict[str, str], line: int, name: str) -> dict[str, str]:
    """Return the account row with the group's date, the account and its status and summary items."""
    currency = _field(fields, 1).upper() or group.get("02.currency") or DEFAULT_CURRENCY
    row = {
        "02.originator identification": group.get("02.originator identification", ""),
        "02.as-of date": group.get("02.as-of date", ""),
        "02.as-of time": group.get("02.as-of time", ""),
        "03.customer account number": _field(fields, 0),
        "currency": currency,
    }
    position = 2
    while position < len(fields):
        type_code = fields[position].strip()
        width = _funds_type_width(fields, position + 3)
        if not type_code:
            # A defaulted item (",,,,") contains nothing but still takes its fields.
            position += 3 + width
            continue
        label = f"03.{type_code} {_TYPE_CODE_NAMES[type_code]}" if type_code in _TYPE_CODE_NAMES else f"03.{type_code} amount"
        row[label] = _amount_text(_field(fields, position + 1), currency, line, name)
        if _field(fields, position + 2):
            row[f"03.{type_code} item count"] = _field(fields, position + 2)
        if _field(fields, position + 3):
            row[f"03.{type_code} funds type"] = _field(fields, position + 3)
        position += 3 + width
    return row


def _transaction_detail(content: str, account: dict[str, str], line: int, name: str) -> dict[str, str]:
    currency = account["currency"]
    fields = content.split(",")
    type_code, raw_amount = _field(fields, 0), _field(fields, 1)
    funds_type = _field(fields, 2).upper()
    width = _funds_type_width(fields, 2)
    details = fields[3:2 + width]
    reference_position = 2 + width
    # The text is the rest of the record and may itself contain commas.
    text = ",".join(fields[reference_position + 2:]).strip()

    amount = _amount_text(raw_amount, currency, line, name)
    mark = _mark(type_code)
    signed = ""
    if amount and mark:
        signed = amount if mark == "C" else _plain(-Decimal(amount))
    row = {
        "02.as-of date": account["02.as-of date"],
        "03.customer account number": account["03.customer account number"],
        "currency": currency,
        "16.type code": type_code,
        "16.mark": mark,
        "16.amount (minor units)": raw_amount,
        "16.amount": amount,
        "16.amount (signed)": signed,
        "16.funds type": funds_type,
        "16.bank reference": _field(fields, reference_position),
        "16.customer reference": _field(fields, reference_position + 1),
        "16.text": text,
    }
    if funds_type == "V":
        row["16.value date"] = _field(details, 0)
        row["16.value time"] = _field(details, 1)
    elif funds_type == "S":
        for index, label in enumerate(["immediate", "one-day", "two-or-more-day"]):
            row[f"16.{label} availability"] = _amount_text(_field(details, index), currency, line, name)
    elif funds_type == "D":
        pairs = details[1:]
        row["16.availability distribution"] = "; ".join(
            f"{days} days: {_amount_text(value, currency, line, name)}" for days, value in zip(pairs[::2], pairs[1::2])
        )
    return row


def _mark(type_code: str) -> str:
    """Return "C" or "D" for the type code's direction, or "" when the code has none.

    BAI2 type codes 100-399 and 920-959 are credits, and 400-699 and 960-999 are debits.
    Status codes (001-099, 900-919) and codes 700-899 carry no direction.
    """
    if not type_code.isdigit():
        return ""
    code = int(type_code)
    if 100 <= code <= 399 or 920 <= code <= 959:
        return "C"
    if 400 <= code <= 699 or 960 <= code <= 999:
        return "D"
    return ""


def _amount_text(raw_amount: str, currency: str, line: int, name: str) -> str:
    """Return the minor-unit amount as decimal text, such as "-35.00" for -3500 in USD."""
    raw_amount = raw_amount.strip()
    if not raw_amount:
        return ""
    if not _AMOUNT.match(raw_amount):
        raise InputFileError(name, f"line {line}: amount {raw_amount!r} is not a whole number of minor units", "Ask the bank to export the BAI2 file again. BAI2 amounts carry no decimal point")
    return _plain(Decimal(raw_amount).scaleb(-_DECIMALS.get(currency, 2)))


def _plain(amount: Decimal) -> str:
    if amount == 0:
        amount = abs(amount)
    return format(amount, "f")


def _field(fields: list[str], index: int) -> str:
    return fields[index].strip() if index < len(fields) else ""


def _table(rows: list[dict[str, str]], lines: list[int], base_columns: list[str], encoding: str) -> ParsedTable:
    columns = list(base_columns)
    for row in rows:
        columns += [column for column in row if column not in columns]
    # The account trailer's totals read best after the account's own items.
    columns = [c for c in columns if not c.startswith("49.")] + [c for c in columns if c.startswith("49.")]
    from onboard.standards.iso20022 import make_table

    source = SourceFormat(kind=SOURCE_KIND, encoding=encoding, delimiter=None, quotechar=None, columns=columns)
    return make_table(rows, columns, lines, [], source)
