"""Read OFX/QFX statements and QIF files into tables of text cells.

OFX 1.x is SGML: a header of "KEY:VALUE" lines, then tags where elements that hold a value
are usually not closed. OFX 2.x is XML. Both become one tree, from which every bank statement
(STMTRS) and credit card statement (CCSTMTRS) gives its account row and its transactions.
Column names are the OFX tag names (ACCTID, TRNAMT, DTPOSTED, ...).

Written here instead of using a library, because neither reads the three sample banks right:

* ofxparse 0.21 converts every date-time to UTC, so a DTPOSTED of 22:00 at -7:00 becomes the
  next day's date. It also needs BeautifulSoup, and it does not return line numbers.
* ofxtools 1.1.1 validates against the specification and rejects a real checking export whose
  BANKID is longer than 9 characters.

QIF has no library that keeps each field as written, because quiffen 4.0.1 turns dates into
datetime values with a day/month order that the caller sets for the whole file. The product decides date and number formats per column
later, so QIF dates and amounts stay as written here.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Iterator

from onboard.errors import InputFileError
from onboard.standards.iso20022 import decimal_text, make_table, parse_xml_safely, standard_source

if TYPE_CHECKING:
    from onboard.reader import ParsedTable

OFX_TRANSACTION_COLUMNS = [
    "ACCTID",
    "BANKID",
    "CURDEF",
    "TRNTYPE",
    "DTPOSTED",
    "DTUSER",
    "TRNAMT",
    "FITID",
    "CHECKNUM",
    "REFNUM",
    "NAME",
    "MEMO",
    "PAYEEID",
    "CURRENCY.CURSYM",
    "ORIGCURRENCY.CURSYM",
]

OFX_ACCOUNT_COLUMNS = [
    "ACCTID",
    "BANKID",
    "BRANCHID",
    "ACCTTYPE",
    "CURDEF",
    "LEDGERBAL.BALAMT",
    "LEDGERBAL.DTASOF",
    "AVAILBAL.BALAMT",
    "AVAILBAL.DTASOF",
    "BANKTRANLIST.DTSTART",
    "BANKTRANLIST.DTEND",
]

# OFX allows a comma or a point as decimal separator and no thousands separator.
_OFX_AMOUNT = re.compile(r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)")
_OFX_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})")
_SGML_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9_.]*)\s*>")
_OFX_PI = re.compile(rb"<\?OFX\s([^?]*)\?>")
_PI_ATTRIBUTE = re.compile(rb'([A-Za-z]+)\s*=\s*"([^"]*)"')


@dataclass
class OfxNode:
    """An OFX aggregate or element, the same for SGML and XML input."""

    tag: str
    text: str = ""
    line: int = 0
    children: list[OfxNode] = field(default_factory=list)

    def find_all(self, path: str) -> list[OfxNode]:
        found = [self]
        for part in path.split("/"):
            found = [child for node in found for child in node.children if child.tag == part]
        return found

    def find(self, path: str) -> OfxNode | None:
        found = self.find_all(path)
        return found[0] if found else None

    def value(self, *paths: str) -> str:
        """Return the text at the first of `paths` that has any, else ""."""
        for path in paths:
            for node in self.find_all(path):
                if node.text:
                    return node.text
        return ""

    def iter(self, tags: set[str]) -> Iterator[OfxNode]:
        for child in self.children:
            if child.tag in tags:
                yield child
            yield from child.iter(tags)


# ---------------------------------------------------------------------------------------------
# OFX


def parse_ofx(raw: bytes, name: str) -> dict[str, ParsedTable]:
    """Read an OFX or QFX file (1.x SGML or 2.x XML) into "transaction" and "account" tables.

    "account" has one row per STMTRS or CCSTMTRS. "transaction" has one row per STMTTRN and is
    left out when no statement lists a transaction. Raises InputFileError when the file contains
    no bank or credit card statement.
    """
    head = raw.lstrip(b"\xef\xbb\xbf \t\r\n")[:4096]
    if head.startswith(b"<?xml") or _OFX_PI.search(head):
        root, encoding, preamble = _read_ofx_xml(raw, name)
    else:
        root, encoding, preamble = _read_ofx_sgml(raw, name)

    statements = list(root.iter({"STMTRS", "CCSTMTRS"}))
    if not statements:
        problem = "contains no bank or credit card statement (no STMTRS or CCSTMTRS element)"
        messages = [node.text for node in root.iter({"MESSAGE"}) if node.text]
        if messages:
            problem += f"; the server's STATUS message is {messages[-1]!r}"
        raise InputFileError(name, problem, "Download the statement again from the bank as OFX or QFX")

    transaction_rows: list[dict[str, str]] = []
    transaction_lines: list[int] = []
    bad_rows: list[dict] = []
    account_rows: list[dict[str, str]] = []
    account_lines: list[int] = []
    for statement in statements:
        account = statement.find("BANKACCTFROM") or statement.find("CCACCTFROM") or OfxNode("")
        account_cells = {
            "ACCTID": account.value("ACCTID"),
            "BANKID": account.value("BANKID"),
            "CURDEF": statement.value("CURDEF"),
        }
        account_rows.append(
            {
                **account_cells,
                "BRANCHID": account.value("BRANCHID"),
                "ACCTTYPE": account.value("ACCTTYPE"),
                "LEDGERBAL.BALAMT": _balance_text(statement.value("LEDGERBAL/BALAMT")),
                "LEDGERBAL.DTASOF": _ofx_date(statement.value("LEDGERBAL/DTASOF")),
                "AVAILBAL.BALAMT": _balance_text(statement.value("AVAILBAL/BALAMT")),
                "AVAILBAL.DTASOF": _ofx_date(statement.value("AVAILBAL/DTASOF")),
                "BANKTRANLIST.DTSTART": _ofx_date(statement.value("BANKTRANLIST/DTSTART")),
                "BANKTRANLIST.DTEND": _ofx_date(statement.value("BANKTRANLIST/DTEND")),
            }
        )
        account_lines.append(statement.line)

        for transaction in statement.find_all("BANKTRANLIST/STMTTRN"):
            amount_text = transaction.value("TRNAMT")
            if not _OFX_AMOUNT.fullmatch(amount_text):
                reason = "TRNAMT is missing" if not amount_text else f"TRNAMT {amount_text!r} is not a decimal amount"
                bad_rows.append({"line": transaction.line, "reason": reason})
                continue
            transaction_rows.append(
                {
                    **account_cells,
                    "TRNTYPE": transaction.value("TRNTYPE"),
                    "DTPOSTED": _ofx_date(transaction.value("DTPOSTED")),
                    "DTUSER": _ofx_date(transaction.value("DTUSER")),
                    "TRNAMT": _ofx_amount(amount_text),
                    "FITID": transaction.value("FITID"),
                    "CHECKNUM": transaction.value("CHECKNUM"),
                    "REFNUM": transaction.value("REFNUM"),
                    # OFX gives the payee either as NAME or as a PAYEE aggregate with its NAME.
                    "NAME": transaction.value("NAME", "PAYEE/NAME"),
                    "MEMO": transaction.value("MEMO"),
                    "PAYEEID": transaction.value("PAYEEID"),
                    # NOTE: with CURRENCY present, OFX gives TRNAMT in that currency, not in CURDEF,
                    # but the CURDEF column still shows the statement's default currency.
                    "CURRENCY.CURSYM": transaction.value("CURRENCY/CURSYM"),
                    "ORIGCURRENCY.CURSYM": transaction.value("ORIGCURRENCY/CURSYM"),
                }
            )
            transaction_lines.append(transaction.line)

    tables: dict[str, ParsedTable] = {}
    if transaction_rows or bad_rows:
        source = standard_source("ofx", encoding, "STMTRS/BANKTRANLIST/STMTTRN", dict(preamble))
        tables["transaction"] = make_table(transaction_rows, OFX_TRANSACTION_COLUMNS, transaction_lines, bad_rows, source)
    source = standard_source("ofx", encoding, "STMTRS", dict(preamble))
    tables["account"] = make_table(account_rows, OFX_ACCOUNT_COLUMNS, account_lines, [], source)
    return tables


def _ofx_amount(text: str) -> str:
    return decimal_text(Decimal(text.replace(",", ".")))


def _balance_text(text: str) -> str:
    """Return a balance as decimal text, or as written when it is not a valid OFX amount."""
    return _ofx_amount(text) if _OFX_AMOUNT.fullmatch(text) else text


def _ofx_date(text: str) -> str:
    """Return the ISO date of an OFX date-time ("20110331120000.000[-5:EST]" -> "2011-03-31").

    The date is the one written in the file, in the file's time zone, so no booking moves to
    another day. Text that does not start with YYYYMMDD is returned unchanged.
    """
    match = _OFX_DATE.match(text)
    return f"{match.group(1)}-{match.group(2)}-{match.group(3)}" if match else text


def _read_ofx_xml(raw: bytes, name: str) -> tuple[OfxNode, str | None, dict[str, str]]:
    document = parse_xml_safely(raw, name)
    preamble: dict[str, str] = {}
    instruction = _OFX_PI.search(raw[:4096])
    if instruction:
        for key, value in _PI_ATTRIBUTE.findall(instruction.group(1)):
            preamble[key.decode("ascii")] = value.decode("ascii", errors="replace")

    def convert(element) -> OfxNode:
        node = OfxNode(tag=element.tag.rpartition("}")[2], line=document.line_of(element))
        children = [child for child in element if isinstance(child.tag, str)]
        if children:
            node.children = [convert(child) for child in children]
        else:
            node.text = (element.text or "").strip()
        return node

    root = OfxNode("#document", children=[convert(document.root)])
    return root, document.encoding, preamble


def _read_ofx_sgml(raw: bytes, name: str) -> tuple[OfxNode, str, dict[str, str]]:
    start = raw.find(b"<")
    if start < 0 or not re.search(rb"<OFX\s*>", raw, re.IGNORECASE):
        raise InputFileError(name, "is not an OFX file: it has no <OFX> element", "Download the statement again from the bank as OFX or QFX")

    preamble: dict[str, str] = {}
    for line in raw[:start].decode("ascii", errors="replace").splitlines():
        key, separator, value = line.partition(":")
        if separator and key.strip():
            preamble[key.strip().upper()] = value.strip()
    encoding = _sgml_encoding(preamble)
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError:
        # The header names the wrong character set. Latin-1 decodes any byte and keeps ASCII.
        encoding = "latin-1"
        text = raw.decode(encoding)
    return _parse_sgml(text, text.find("<"), name), encoding, preamble


def _sgml_encoding(header: dict[str, str]) -> str:
    if header.get("ENCODING", "").upper().replace("-", "") == "UTF8":
        return "utf-8"
    charset = header.get("CHARSET", "").upper()
    if charset in ("ISO-8859-1", "8859-1", "LATIN1"):
        return "latin-1"
    # CHARSET 1252 is the usual value, and NONE or a missing header comes from the same exporters.
    return "cp1252"


def _parse_sgml(text: str, body_start: int, name: str) -> OfxNode:
    """Build the tree of an OFX 1.x body.

    An open tag followed by text is an element with a value, closed or not. An open tag
    followed directly by another tag is an aggregate, which the specification requires to be
    closed. An empty element that breaks that rule is taken for an aggregate at first. When a
    close tag further out ends it, its children are moved back to its parent.
    """
    root = OfxNode("#document")
    stack = [root]
    tags = list(_SGML_TAG.finditer(text, body_start))
    line = text.count("\n", 0, body_start) + 1
    counted_to = body_start
    for index, match in enumerate(tags):
        line += text.count("\n", counted_to, match.start())
        counted_to = match.start()
        closing, tag = match.group(1), match.group(2).upper()
        end = tags[index + 1].start() if index + 1 < len(tags) else len(text)
        following = text[match.end():end].strip()

        if closing:
            depth = next((d for d in range(len(stack) - 1, 0, -1) if stack[d].tag == tag), None)
            if depth is None:
                # The close tag of an element with a value, which is already complete.
                continue
            while len(stack) > depth + 1:
                unclosed = stack.pop()
                parent = stack[-1]
                position = parent.children.index(unclosed)
                parent.children[position + 1:position + 1] = unclosed.children
                unclosed.children = []
            stack.pop()
            continue

        node = OfxNode(tag=tag, line=line)
        stack[-1].children.append(node)
        if following:
            node.text = html.unescape(following) if "&" in following else following
        else:
            stack.append(node)

    if len(stack) > 1:
        unclosed = stack[1]
        raise InputFileError(
            name,
            f"is cut off: <{unclosed.tag}> opened at line {unclosed.line} is never closed",
            "Download the statement again from the bank; the file is incomplete",
        )
    return root


# ---------------------------------------------------------------------------------------------
# QIF

QIF_TRANSACTION_COLUMNS = [
    "!Type",
    "Account.N (Name)",
    "D (Date)",
    "T (Amount)",
    "P (Payee)",
    "M (Memo)",
    "L (Category)",
    "N (Number)",
    "C (Cleared)",
    "A (Address)",
    "S (Split categories)",
    "E (Split memos)",
    "$ (Split amounts)",
]

QIF_ACCOUNT_COLUMNS = [
    "N (Name)",
    "T (Type)",
    "D (Description)",
    "L (Credit limit)",
    "/ (Balance date)",
    "$ (Balance)",
]

# Headers of transaction lists. Categories, classes, memorised payees, securities and prices
# are lists of other things, so they are skipped.
_QIF_TRANSACTION_TYPES = {"bank", "cash", "ccard", "oth a", "oth l", "invoice"}
_QIF_SPLIT_SEPARATOR = " | "


def parse_qif(raw: bytes, name: str) -> dict[str, ParsedTable]:
    """Read a QIF file into a "transaction" table, plus "account" when it has !Account blocks.

    Each record ends with "^". D (date) and T or U (amount) stay as written, because QIF
    writers differ in date order and separators, and the product parses them per column. Split
    lines (S, E, $) are joined with " | " in file order.
    """
    from onboard.reader import decode_text

    text, encoding = decode_text(raw, name)
    section = None
    record_type = ""
    account_name = ""
    record: list[tuple[str, str]] = []
    record_line = 0
    investment_records = 0

    transaction_rows: list[dict[str, str]] = []
    transaction_lines: list[int] = []
    bad_rows: list[dict] = []
    account_rows: list[dict[str, str]] = []
    account_lines: list[int] = []

    def finish_record() -> None:
        nonlocal account_name, investment_records
        if not record:
            return
        if section == "account":
            account = _qif_account_row(record)
            account_name = account["N (Name)"]
            account_rows.append(account)
            account_lines.append(record_line)
        elif section == "transactions":
            row, problem = _qif_transaction_row(record, record_type, account_name)
            if problem:
                bad_rows.append({"line": record_line, "reason": problem})
            else:
                transaction_rows.append(row)
                transaction_lines.append(record_line)
        elif section == "investment":
            investment_records += 1
            bad_rows.append({"line": record_line, "reason": "an investment record (!Type:Invst), which this reader does not read"})
        elif section is None:
            bad_rows.append({"line": record_line, "reason": "a record before any !Type header line"})

    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("!"):
            finish_record()
            record = []
            header = stripped.lower()
            if header.startswith("!type:"):
                kind = header[len("!type:"):].strip()
                if kind in _QIF_TRANSACTION_TYPES:
                    section, record_type = "transactions", stripped[len("!type:"):].strip()
                else:
                    section = "investment" if kind == "invst" else "skip"
            elif header == "!account":
                section = "account"
            # "!Option:AutoSwitch" and "!Clear:AutoSwitch" only switch account lists on and off.
            continue
        if stripped == "^":
            finish_record()
            record = []
            continue
        if not record:
            record_line = number
        record.append((stripped[0], stripped[1:].strip()))
    # The last record may lack its closing "^".
    finish_record()

    if not transaction_rows:
        if investment_records:
            problem = "contains only investment records (!Type:Invst), which are not supported"
        else:
            problem = "contains no transactions (no record under a !Type:Bank, Cash, CCard, Oth A or Oth L header)"
        raise InputFileError(name, problem, "Export the bank or card account register as QIF, or export CSV")

    tables: dict[str, ParsedTable] = {}
    source = standard_source("qif", encoding, "!Type", {})
    tables["transaction"] = make_table(transaction_rows, QIF_TRANSACTION_COLUMNS, transaction_lines, bad_rows, source)
    if account_rows:
        source = standard_source("qif", encoding, "!Account", {})
        tables["account"] = make_table(account_rows, QIF_ACCOUNT_COLUMNS, account_lines, [], source)
    return tables


def _qif_transaction_row(record: list[tuple[str, str]], record_type: str, account_name: str) -> tuple[dict[str, str], str]:
    """Return the row of one transaction record, or an empty row and the reason it is invalid."""
    first: dict[str, str] = {}
    addresses: list[str] = []
    splits: dict[str, list[str]] = {"S": [], "E": [], "$": []}
    for code, value in record:
        if code == "A":
            addresses.append(value)
        elif code in splits:
            splits[code].append(value)
        else:
            first.setdefault(code, value)

    # T is the amount. Some writers give U (the same amount) as well, or only U.
    amount = first.get("T") or first.get("U", "")
    if not amount:
        return {}, "the record has no T or U amount"
    row = {
        "!Type": record_type,
        "Account.N (Name)": account_name,
        "D (Date)": first.get("D", ""),
        "T (Amount)": amount,
        "P (Payee)": first.get("P", ""),
        "M (Memo)": first.get("M", ""),
        "L (Category)": first.get("L", ""),
        "N (Number)": first.get("N", ""),
        "C (Cleared)": first.get("C", ""),
        "A (Address)": ", ".join(part for part in addresses if part),
        "S (Split categories)": _QIF_SPLIT_SEPARATOR.join(splits["S"]),
        "E (Split memos)": _QIF_SPLIT_SEPARATOR.join(splits["E"]),
        "$ (Split amounts)": _QIF_SPLIT_SEPARATOR.join(splits["$"]),
    }
    return row, ""


def _qif_account_row(record: list[tuple[str, str]]) -> dict[str, str]:
    first: dict[str, str] = {}
    for code, value in record:
        first.setdefault(code, value)
    return {
        "N (Name)": first.get("N", ""),
        "T (Type)": first.get("T", ""),
        "D (Description)": first.get("D", ""),
        "L (Credit limit)": first.get("L", ""),
        "/ (Balance date)": first.get("/", ""),
        "$ (Balance)": first.get("$", ""),
    }
