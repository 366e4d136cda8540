"""Read SWIFT MT940 customer statements and MT942 interim transaction reports.

`parse_mt` returns two tables of text cells: "transaction" with one row per :61: statement
line, and "account" with one row per statement (one per :20: field). Column names are the
SWIFT tag followed by the subfield name, such as "61.amount (signed)" or "25.account", so
the matcher maps them like the headers of a CSV export.

The reader follows the SWIFT MT940/MT942 field layout. It also accepts what real bank files
add to it: lines before and between messages (BIC, "940", ":940:"), FIN blocks `{1:}{2:}{4:`
and `-}` trailers, and SOH/ETX envelope bytes. Files may hold several statements, fields may
wrap over several lines, and bank-specific fields such as :NS: and German structured :86:
details with ?NN subfields become columns of their own.

It does not use the PyPI package mt-940 (5.1.1, tried on the sample files this reader is
tested with). That package returns no line positions, so neither the row line numbers nor
the errors could name a line. It keeps the statement fields (:25:, :60F:, :62F:, ...) of
the last statement only, so a file with several statements loses the others' balances.
And it drops a customer reference that contains spaces ("TFNr 40005 MSGID").

Amounts are parsed with decimal.Decimal and written as plain text with a decimal point.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING


from onboard.errors import InputFileError
from onboard.spec import SourceFormat

if TYPE_CHECKING:
    from onboard.reader import ParsedTable

SOURCE_KIND = "swift_mt"

# SWIFT writes field 86 in lines of at most 65 characters and the :61: supplementary
# details in at most 34. A line that fills its width was wrapped by the bank, maybe in the
# middle of a word, so it continues without a space. A shorter line ended on purpose.
DETAILS_WIDTH = 65
SUPPLEMENTARY_WIDTH = 34
# German structured details (DFÜ-Abkommen) fill ?20-?29 and ?32-?33 in 27-character pieces.
SUBFIELD_WIDTH = 27

_TAG = re.compile(r"^:([0-9]{2,3}[A-Z]?|[A-Z]{2}):(.*)$")
_FIN_BLOCKS = re.compile(r"^(?:\{[1-3]:(?:[^{}]|\{[^{}]*\})*\})*\{4:")
_TRAILER = re.compile(r"^-(?:\}.*|[A-Z]{0,4})$")
_BALANCE = re.compile(r"^([CD])(\d{6})([A-Z]{3})(\d[\d,]*|,\d+)$")
_FLOOR_LIMIT = re.compile(r"^([A-Z]{3})([CD]?)(\d[\d,]*|,\d+)$")
_DATE_TIME = re.compile(r"^(\d{6})(\d{4})([+-]\d{4})$")
_ENTRY_COUNT = re.compile(r"^(\d{1,5})([A-Z]{3})(\d[\d,]*|,\d+)$")
_AMOUNT = re.compile(r"^(?:\d+,?\d*|,\d+)$")
_STRUCTURED_DETAILS = re.compile(r"^(\d{3})\?\d{2}")
_SUBFIELD = re.compile(r"\?(\d{2})")

# Fields that belong to a statement. One of them before any :20: means that the file lost
# the start of its statement.
_STATEMENT_TAGS = {"21", "25", "28", "28C", "60F", "60M", "61", "62F", "62M", "64", "65", "86", "NS", "34F", "13D", "90D", "90C"}
# Balance and total fields come after the statement lines, so an :86: or :NS: that follows
# one of them describes the statement, not the last transaction.
_CLOSING_TAGS = {"62F", "62M", "64", "65", "90D", "90C"}

# The German SEPA keywords that start the parts of the ?20-?29 remittance text.
_SEPA_KEYWORDS = {
    "EREF": "end-to-end reference",
    "KREF": "customer reference",
    "MREF": "mandate reference",
    "CRED": "creditor identifier",
    "DEBT": "originator identifier",
    "COAM": "compensation amount",
    "OAMT": "original amount",
    "SVWZ": "remittance information",
    "ABWA": "ultimate debtor",
    "ABWE": "ultimate creditor",
    "IBAN": "IBAN",
    "BIC": "BIC",
}
_SEPA_KEYWORD = re.compile(r"\b(" + "|".join(_SEPA_KEYWORDS) + r")\+")

TRANSACTION_COLUMNS = [
    "20.reference",
    "25.account",
    "28C.statement number",
    "currency",
    "61.value date",
    "61.entry date",
    "61.mark",
    "61.funds code",
    "61.amount",
    "61.amount (signed)",
    "61.transaction type",
    "61.customer reference",
    "61.bank reference",
    "61.supplementary details",
    "86.details",
]
STRUCTURED_DETAIL_COLUMNS = [
    "86.transaction code (GVC)",
    "86.?00 posting text",
    "86.?10 primanota",
    "86.?20-29 remittance",
    "86.?30 bank code",
    "86.?31 account",
    "86.?32-33 name",
    "86.?34 text key extension",
]
ACCOUNT_COLUMNS = ["20.reference", "25.account", "28C.statement number", "28C.sequence number", "currency"]


@dataclass
class _Field:
    tag: str
    line: int
    lines: list[str]


@dataclass
class _Statement:
    line: int
    fields: list[_Field] = field(default_factory=list)


def parse_mt(raw: bytes, name: str) -> dict[str, ParsedTable]:
    """Parse an MT940 or MT942 file into "transaction" and "account" tables.

    Raises InputFileError, naming the file and the line, for a file with no statement, a
    statement field before any :20:, a statement without :25:, or a malformed :61:,
    balance or total field.
    """
    # onboard.reader dispatches to this module, so it is imported at call time.
    from onboard.reader import decode_text

    text, encoding = decode_text(raw, name)
    statements = _split_statements(text, name)

    transactions: list[dict[str, str]] = []
    transaction_lines: list[int] = []
    accounts: list[dict[str, str]] = []
    account_lines: list[int] = []
    for statement in statements:
        account, rows = _read_statement(statement, name)
        accounts.append(account)
        account_lines.append(statement.line)
        for line, row in rows:
            transactions.append(row)
            transaction_lines.append(line)

    transaction_base = list(TRANSACTION_COLUMNS)
    if any("86.transaction code (GVC)" in row for row in transactions):
        transaction_base += STRUCTURED_DETAIL_COLUMNS
    return {
        "transaction": _table(transactions, transaction_lines, transaction_base, encoding),
        "account": _table(accounts, account_lines, ACCOUNT_COLUMNS, encoding),
    }


def _split_statements(text: str, name: str) -> list[_Statement]:
    """Group the fields by statement. Each :20: starts a statement and a `-` trailer ends it."""
    statements: list[_Statement] = []
    current: _Statement | None = None
    for number, line in enumerate(re.split(r"\r\n|\r|\n", text), start=1):
        # SOH and ETX frame messages sent over some bank links.
        line = line.replace("\x01", "").replace("\x03", "")
        if line.startswith("{"):
            blocks = _FIN_BLOCKS.match(line)
            if not blocks:
                continue  # a {5:...} trailer block or another envelope line
            line = line[blocks.end():]
        if not line.strip():
            continue
        if _TRAILER.match(line.strip()):
            current = None
            continue

        tag_match = _TAG.match(line)
        if tag_match:
            tag, value = tag_match.group(1), tag_match.group(2)
            if tag == "20":
                current = _Statement(line=number)
                statements.append(current)
            elif current is None:
                if tag in _STATEMENT_TAGS:
                    raise InputFileError(
                        name,
                        f"line {number}: field :{tag}: comes before any :20: transaction reference, so it belongs to no statement",
                        "Ask the bank for the complete MT940/MT942 file, in which every statement starts with a :20: line",
                    )
                continue  # a header line such as ":940:" before the first statement
            current.fields.append(_Field(tag=tag, line=number, lines=[value]))
        elif current is not None and current.fields:
            current.fields[-1].lines.append(line)
        # Other lines outside a statement are preamble, such as "ABNANL2A" or "940 00".

    if not statements:
        raise InputFileError(
            name,
            "contains no SWIFT MT940 or MT942 statement: no line starts with the :20: field",
            "Check that this is an MT940/MT942 file, or ask the bank to export the statement again",
        )
    return statements


def _read_statement(statement: _Statement, name: str) -> tuple[dict[str, str], list[tuple[int, dict[str, str]]]]:
    """Return the statement's account row and its (line, transaction row) pairs."""
    account: dict[str, str] = {}
    account_details: list[str] = []
    account_extra: dict[str, list[str]] = {}
    transactions: list[tuple[int, dict[str, str], list[str], dict[str, list[str]]]] = []
    in_transactions = False

    for item in statement.fields:
        tag = item.tag
        value = item.lines[0].strip()
        if tag == "20":
            account["20.reference"] = value
        elif tag == "21":
            account["21.related reference"] = value
        elif tag == "25":
            account["25.account"] = value
        elif tag in ("28", "28C"):
            number, _, sequence = value.partition("/")
            account["28C.statement number"] = number
            account["28C.sequence number"] = sequence
        elif tag in ("60F", "60M", "62F", "62M", "64", "65"):
            if tag in _CLOSING_TAGS:
                in_transactions = False
            _put_balance(account, tag, value, item.line, name)
        elif tag == "34F":
            _put_floor_limit(account, value, item.line, name)
        elif tag == "13D":
            _put_date_time(account, value, item.line, name)
        elif tag in ("90D", "90C"):
            in_transactions = False
            _put_entry_total(account, tag, value, item.line, name)
        elif tag == "61":
            row = _statement_line(item, name)
            transactions.append((item.line, row, [], {}))
            in_transactions = True
        elif tag == "86":
            target = transactions[-1][2] if in_transactions else account_details
            target.extend(item.lines)
        else:
            # :NS: and other bank-specific fields stay as columns named by their tag.
            target_extra = transactions[-1][3] if in_transactions else account_extra
            target_extra.setdefault(tag, []).extend(item.lines)

    if "25.account" not in account:
        raise InputFileError(
            name,
            f"the statement that starts at line {statement.line} has no :25: account identification",
            "Ask the bank for the complete MT940/MT942 file, in which every statement names its account in a :25: field",
        )

    currency = _statement_currency(account)
    account["currency"] = currency
    if account_details:
        account["86.details"] = _join_wrapped(account_details, DETAILS_WIDTH)
    _put_extra_fields(account, account_extra)

    rows = []
    for line, row, details, extra in transactions:
        full = {
            "20.reference": account["20.reference"],
            "25.account": account["25.account"],
            "28C.statement number": account.get("28C.statement number", ""),
            "currency": currency,
        }
        full.update(row)
        if details:
            full.update(_details_columns(details))
        _put_extra_fields(full, extra)
        rows.append((line, full))
    return account, rows


def _statement_line(item: _Field, name: str) -> dict[str, str]:
    """Split a :61: statement line into its subfields."""
    value = item.lines[0].rstrip()
    line = item.line

    def fail(problem: str) -> InputFileError:
        return InputFileError(name, f"line {line}: the :61: statement line {problem}", "Ask the bank to export the statement again, because the file looks cut off or damaged")

    match = re.match(r"\d{6}", value)
    if not match:
        raise fail("does not start with a value date (YYMMDD)")
    value_date = match.group()
    position = 6
    entry = re.match(r"\d{4}| {4}", value[position:])
    entry_date = ""
    if entry:
        position += 4
        if entry.group().strip():
            entry_date = _complete_entry_date(value_date, entry.group())

    mark = re.match(r"RC|RD|C|D", value[position:])
    if not mark:
        raise fail("has no debit/credit mark (C, D, RC or RD) after the dates")
    position += len(mark.group())
    # The funds code is the third letter of the currency code, e.g. "R" for EUR.
    funds_code = ""
    if re.match(r"[A-Z]\d", value[position:position + 2]):
        funds_code = value[position]
        position += 1

    amount = re.match(r"\d[\d,]*|,\d+", value[position:])
    if not amount:
        raise fail("has no amount after the debit/credit mark")
    raw_amount = amount.group()
    position += len(raw_amount)
    if not _AMOUNT.match(raw_amount):
        raise fail(f"has an invalid amount {raw_amount!r}")

    transaction_type = re.match(r"[A-Z][A-Z0-9 ]{3}", value[position:])
    if not transaction_type:
        raise fail("has no transaction type (such as NTRF) after the amount")
    position += 4

    rest = value[position:]
    if "//" in rest:
        customer_reference, _, after = rest.partition("//")
        bank_reference, extra = after[:16], after[16:]
    else:
        # Some banks put the counterparty name right after the 16-character reference.
        customer_reference, bank_reference, extra = rest[:16], "", rest[16:]
    supplementary = [extra.strip()] if extra.strip() else []
    supplementary += [continuation.strip() for continuation in item.lines[1:] if continuation.strip()]

    amount_value = _swift_decimal(raw_amount)
    # A reversal of a credit (RC) takes money out, so it is negative like a debit. A reversal
    # of a debit (RD) puts money back, so it is positive.
    signed = -amount_value if mark.group() in ("D", "RC") else amount_value
    return {
        "61.value date": value_date,
        # Subfield 2 (entry date) is optional and only written when the booking date differs
        # from the value date, so an absent one is the value date.
        "61.entry date": entry_date or value_date,
        "61.mark": mark.group(),
        "61.funds code": funds_code,
        "61.amount": raw_amount,
        "61.amount (signed)": _plain(signed),
        "61.transaction type": transaction_type.group().strip(),
        "61.customer reference": customer_reference.strip(),
        "61.bank reference": bank_reference.strip(),
        "61.supplementary details": _join_wrapped(supplementary, SUPPLEMENTARY_WIDTH),
    }


def _complete_entry_date(value_date: str, entry_mmdd: str) -> str:
    """Return the MMDD entry date as YYMMDD, in the year that puts it nearest the value date."""
    year, month = int(value_date[:2]), int(value_date[2:4])
    entry_month = int(entry_mmdd[:2])
    if entry_month - month > 6:  # booked in December, value date in January
        year -= 1
    elif month - entry_month > 6:  # value date in December, booked in January
        year += 1
    return f"{year % 100:02d}{entry_mmdd}"


def _put_balance(row: dict[str, str], tag: str, value: str, line: int, name: str) -> None:
    match = _BALANCE.match(value)
    if not match or not _AMOUNT.match(match.group(4)):
        raise InputFileError(
            name,
            f"line {line}: the :{tag}: balance is not a mark, a YYMMDD date, a currency and an amount (like C240312USD17376,67)",
            "Ask the bank to export the statement again, because the file looks damaged",
        )
    mark, date, currency, raw_amount = match.groups()
    # Fields 60a and 62a come as option F (first/final) or M (intermediate). One column set
    # per field keeps every statement's opening and closing balance in the same columns.
    prefix, option = (tag[:2] + "a", tag[2]) if tag[:2] in ("60", "62") else (tag, "")
    # :65: may repeat, once per future date.
    number = 2
    while f"{prefix}.date" in row:
        prefix = f"{tag} ({number})"
        number += 1
    amount = _swift_decimal(raw_amount)
    if option:
        row[f"{prefix}.option"] = option
    row[f"{prefix}.mark"] = mark
    row[f"{prefix}.date"] = date
    row[f"{prefix}.currency"] = currency
    row[f"{prefix}.amount"] = raw_amount
    row[f"{prefix}.amount (signed)"] = _plain(-amount if mark == "D" else amount)


def _put_floor_limit(row: dict[str, str], value: str, line: int, name: str) -> None:
    match = _FLOOR_LIMIT.match(value)
    if not match or not _AMOUNT.match(match.group(3)):
        raise InputFileError(name, f"line {line}: the :34F: floor limit is not a currency, an optional mark and an amount (like PLN0,)", "Ask the bank to export the report again, because the file looks damaged")
    currency, mark, raw_amount = match.groups()
    # One :34F: without a mark applies to debits and credits. Two :34F: fields carry the
    # marks D and C.
    label = {"": "floor limit", "D": "debit floor limit", "C": "credit floor limit"}[mark]
    row["34F.currency"] = currency
    row[f"34F.{label}"] = _plain(_swift_decimal(raw_amount))


def _put_date_time(row: dict[str, str], value: str, line: int, name: str) -> None:
    match = _DATE_TIME.match(value)
    if not match:
        raise InputFileError(name, f"line {line}: the :13D: date-time indication is not YYMMDDhhmm and a UTC offset (like 1701191815+0100)", "Ask the bank to export the report again, because the file looks damaged")
    row["13D.date"], row["13D.time"], row["13D.UTC offset"] = match.groups()


def _put_entry_total(row: dict[str, str], tag: str, value: str, line: int, name: str) -> None:
    match = _ENTRY_COUNT.match(value)
    if not match or not _AMOUNT.match(match.group(3)):
        raise InputFileError(name, f"line {line}: the :{tag}: total is not a count, a currency and an amount (like 3PLN0,03)", "Ask the bank to export the report again, because the file looks damaged")
    count, currency, raw_amount = match.groups()
    amount = _swift_decimal(raw_amount)
    row[f"{tag}.number of entries"] = count
    row[f"{tag}.currency"] = currency
    row[f"{tag}.amount"] = raw_amount
    row[f"{tag}.amount (signed)"] = _plain(-amount if tag == "90D" else amount)


def _statement_currency(account: dict[str, str]) -> str:
    """Return the statement's currency, which MT940 states in the balances and MT942 in :34F:."""
    for column in ("60a.currency", "34F.currency", "62a.currency", "64.currency", "90D.currency", "90C.currency"):
        if account.get(column):
            return account[column]
    return ""


def _details_columns(lines: list[str]) -> dict[str, str]:
    """Return "86.details" and, for German structured details, one column per subfield."""
    joined = _join_wrapped(lines, DETAILS_WIDTH)
    columns = {"86.details": joined}
    structured = _STRUCTURED_DETAILS.match(joined)
    if not structured:
        return columns

    columns["86.transaction code (GVC)"] = structured.group(1)
    pieces = _SUBFIELD.split(joined[3:])
    subfields: dict[str, list[str]] = {}
    for code, content in zip(pieces[1::2], pieces[2::2]):
        subfields.setdefault(code, []).append(content)

    # ?60-?63 continue the ?20-?29 remittance text.
    remittance_codes = [f"{n:02d}" for n in [*range(20, 30), *range(60, 64)]]
    named = {
        "86.?00 posting text": ["00"],
        "86.?10 primanota": ["10"],
        "86.?20-29 remittance": remittance_codes,
        "86.?30 bank code": ["30"],
        "86.?31 account": ["31"],
        "86.?32-33 name": ["32", "33"],
        "86.?34 text key extension": ["34"],
    }
    for column, codes in named.items():
        parts = [part for code in codes for part in subfields.get(code, [])]
        columns[column] = _join_wrapped(parts, SUBFIELD_WIDTH)
    columns.update(_sepa_keywords(columns["86.?20-29 remittance"]))

    known = {code for codes in named.values() for code in codes}
    for code in sorted(set(subfields) - known):
        columns[f"86.?{code}"] = _join_wrapped(subfields[code], SUBFIELD_WIDTH)
    return columns


def _sepa_keywords(remittance: str) -> dict[str, str]:
    """Split SEPA remittance text such as "EREF+123 SVWZ+Invoice 7" at its keywords."""
    found = list(_SEPA_KEYWORD.finditer(remittance))
    if not found or remittance[: found[0].start()].strip():
        return {}
    columns = {}
    for index, keyword in enumerate(found):
        end = found[index + 1].start() if index + 1 < len(found) else len(remittance)
        columns[f"86.{keyword.group(1)}+ {_SEPA_KEYWORDS[keyword.group(1)]}"] = remittance[keyword.end():end].strip()
    return columns


def _put_extra_fields(row: dict[str, str], extra: dict[str, list[str]]) -> None:
    """Add bank-specific fields: the raw lines, and for :NS: also one column per 2-digit code."""
    for tag, lines in extra.items():
        lines = [line.rstrip() for line in lines if line.strip()]
        row[tag] = "\n".join(lines)
        if tag == "NS" and lines and all(re.match(r"\d{2}", line) for line in lines):
            for line in lines:
                key = f"NS.{line[:2]}"
                row[key] = f"{row[key]}\n{line[2:]}" if key in row else line[2:]


def _join_wrapped(lines: list[str], width: int) -> str:
    """Join wrapped lines directly after a full-width line or at a space, and else with a space."""
    text = ""
    previous: str | None = None
    for line in lines:
        if previous is None:
            text = line
        elif len(previous) >= width or previous[-1:].isspace() or line[:1].isspace():
            text += line
        else:
            text += " " + line
        previous = line
    return text.strip()


def _swift_decimal(raw_amount: str) -> Decimal:
    """Return the SWIFT amount ("1213,28", "9,", "0,") as a Decimal."""
    return Decimal(raw_amount.replace(",", "."))


def _plain(amount: Decimal) -> str:
    """Return the amount as plain decimal text such as "-22.50", with no "-0" and no exponent."""
    if amount == 0:
        amount = abs(amount)
    return format(amount, "f")


def _table(rows: list[dict[str, str]], lines: list[int], base_columns: list[str], encoding: str) -> ParsedTable:
    columns = list(base_columns)
    for row in rows:
        columns += [column for column in row if column not in columns]
    from onboard.standards.iso20022 import make_table

    source = SourceFormat(kind=SOURCE_KIND, encoding=encoding, delimiter=None, quotechar=None, columns=columns)
    return make_table(rows, columns, lines, [], source)
