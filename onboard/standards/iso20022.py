"""Read ISO 20022 cash management and payment initiation XML into tables of text cells.

Supported messages, in any version, because elements are matched on their local names and
namespaces are ignored:

* camt.052 (account report, ``Rpt``), camt.053 (statement, ``Stmt``) and camt.054
  (debit/credit notification, ``Ntfctn``) give a "transaction" table and an "account" table.
* pain.001 (credit transfer initiation) and pain.008 (direct debit initiation) give a
  "transaction" table.

Column names are the standard's element paths, shortened (for example "Ntry.BookgDt" or
"RltdPties.Cdtr.Nm"), so the matcher maps them like any header. Amounts are exact decimal text
with a point, signed by the credit/debit indicator, never passed through a float. Dates are ISO
text: the date part of a date-time, without converting its time zone.

The XML is parsed with lxml because it reports each element's source line and is fast on large
statements. Its parser is set never to resolve entities, load a DTD or use the network, and a
document that declares or references entities is rejected (see ``parse_xml_safely``).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

import pandas as pd
from lxml import etree

from onboard.errors import InputFileError
from onboard.spec import SourceFormat

if TYPE_CHECKING:
    from onboard.reader import ParsedTable

# Message element -> (message name, element repeated once per account or payment batch).
MESSAGES = {
    "BkToCstmrAcctRpt": ("camt.052", "Rpt"),
    "BkToCstmrStmt": ("camt.053", "Stmt"),
    "BkToCstmrDbtCdtNtfctn": ("camt.054", "Ntfctn"),
    "CstmrCdtTrfInitn": ("pain.001", "PmtInf"),
    "CstmrDrctDbtInitn": ("pain.008", "PmtInf"),
}

ENTITY_PROBLEM = (
    "the XML uses entities (an ENTITY declaration, an entity reference or an external DTD), "
    "which are not allowed because they can read local files or expand without bound"
)
ENTITY_ACTION = "Ask the client for the bank's original export, which has no DOCTYPE or entities"

_AMOUNT = re.compile(r"\d+(?:\.\d+)?")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class RowError(ValueError):
    """A record that cannot become a row, so its message becomes the bad row's reason."""


@dataclass
class XmlDocument:
    root: etree._Element
    encoding: str | None
    # Blank lines removed before the XML declaration, added back to every source line.
    line_offset: int = 0

    def line_of(self, element: etree._Element) -> int:
        line = element.sourceline
        return line + self.line_offset if line else 0


# ---------------------------------------------------------------------------------------------
# Shared with the OFX reader: safe parsing and table building.


def parse_xml_safely(raw: bytes, name: str) -> XmlDocument:
    """Parse XML without resolving entities, loading a DTD or using the network.

    Raises InputFileError when the document declares or references entities or an external
    DTD, and when it is not well-formed XML (the message gives the line and column).
    """
    # ASCII-compatible encodings show a declaration as these bytes. Other encodings (UTF-16)
    # are checked on the parsed tree below.
    if b"<!ENTITY" in raw:
        raise InputFileError(name, ENTITY_PROBLEM, ENTITY_ACTION)

    # Some exports put blank lines before the XML declaration, which XML forbids.
    body = raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw
    stripped = body.lstrip(b" \t\r\n")
    line_offset = 0
    if stripped.startswith(b"<?xml") and len(stripped) != len(body):
        line_offset = body[: len(body) - len(stripped)].count(b"\n")
        body = stripped

    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        load_dtd=False,
        dtd_validation=False,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError as error:
        if "entity" in (error.msg or "").lower():
            raise InputFileError(name, ENTITY_PROBLEM, ENTITY_ACTION) from None
        line, column = error.position if error.position else (error.lineno, 0)
        raise InputFileError(
            name,
            f"is not well-formed XML at line {line + line_offset}, column {column}: {error.msg}",
            "Ask the client to export the file again, because a file cut off in transfer or edited by hand fails this way",
        ) from None

    docinfo = root.getroottree().docinfo
    dtd = docinfo.internalDTD
    if dtd is not None and any(True for _ in dtd.iterentities()):
        raise InputFileError(name, ENTITY_PROBLEM, ENTITY_ACTION)
    if docinfo.system_url or docinfo.public_id:
        raise InputFileError(name, ENTITY_PROBLEM, ENTITY_ACTION)
    if any(True for _ in root.iter(etree.Entity)):
        raise InputFileError(name, ENTITY_PROBLEM, ENTITY_ACTION)
    return XmlDocument(root=root, encoding=docinfo.encoding, line_offset=line_offset)


def standard_source(kind: str, encoding: str | None, record_path: str, preamble: dict[str, str]) -> SourceFormat:
    """Build the SourceFormat of a table read from a banking standard's file."""
    return SourceFormat(kind=kind, encoding=encoding, record_path=record_path, preamble=preamble)


def make_table(
    rows: list[dict[str, str]],
    columns: list[str],
    lines: list[int],
    bad_rows: list[dict],
    source: SourceFormat,
) -> ParsedTable:
    """Build a ParsedTable with `columns` in order. Rows with an over-long cell become bad rows."""
    from onboard.reader import MAX_CELL_CHARS, ParsedTable

    records: list[list[str]] = []
    kept_lines: list[int] = []
    for row, line in zip(rows, lines):
        cells = [row.get(column, "") for column in columns]
        if any(len(cell) > MAX_CELL_CHARS for cell in cells):
            bad_rows.append({"line": line, "reason": f"a cell longer than {MAX_CELL_CHARS} characters"})
            continue
        records.append(cells)
        kept_lines.append(line)
    frame = pd.DataFrame(records, columns=columns, dtype=object)
    source.columns = list(columns)
    bad_rows.sort(key=lambda bad: bad["line"])
    return ParsedTable(frame=frame, source=source, line_numbers=kept_lines, bad_rows=bad_rows)


def decimal_text(value: Decimal) -> str:
    """Format a Decimal as plain text with a point and its own decimal places, "0" never signed."""
    if value == 0:
        value = abs(value)
    return format(value, "f")


# ---------------------------------------------------------------------------------------------
# Namespace-free navigation: every path is a "/"-separated list of local element names.


def _local(element: etree._Element) -> str:
    tag = element.tag
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


@functools.lru_cache(maxsize=512)
def _any_namespace(path: str) -> str:
    """Return the lxml path that matches each name in any namespace or none ("{*}Name")."""
    return "/".join("{*}" + part for part in path.split("/"))


def _children(element: etree._Element | None, name: str) -> list[etree._Element]:
    return _find_all(element, name)


def _find_all(element: etree._Element | None, path: str) -> list[etree._Element]:
    return element.findall(_any_namespace(path)) if element is not None else []


def _find(element: etree._Element | None, path: str) -> etree._Element | None:
    return element.find(_any_namespace(path)) if element is not None else None


def _clean(text: str | None) -> str:
    """Join the text's lines with single spaces, because XML indentation is no part of a value."""
    if not text:
        return ""
    return " ".join(line.strip() for line in text.splitlines() if line.strip())


def _text(element: etree._Element | None, *paths: str) -> str:
    """Return the text at the first of `paths` that has any, else ""."""
    for path in paths:
        for node in _find_all(element, path):
            value = _clean(node.text)
            if value:
                return value
    return ""


def _joined_text(element: etree._Element | None, path: str) -> str:
    return " ".join(value for value in (_clean(node.text) for node in _find_all(element, path)) if value)


def _date(element: etree._Element | None, path: str) -> str:
    """Return the ISO date at `path`, which contains the date directly or in a Dt or DtTm child."""
    node = _find(element, path)
    if node is None:
        return ""
    text = _text(node, "Dt", "DtTm") or _clean(node.text)
    # "2017-04-01+02:00" and "2017-04-12T09:12:16+02:00" both give the date as written.
    return text[:10] if _ISO_DATE.match(text) else text


def _amount(node: etree._Element | None, label: str) -> tuple[Decimal, str]:
    """Return the amount and its Ccy attribute; raise RowError when missing or not a decimal."""
    if node is None:
        raise RowError(f"{label} is missing")
    text = _clean(node.text)
    if not _AMOUNT.fullmatch(text):
        raise RowError(f"{label} {text!r} is not a decimal amount with a point")
    return Decimal(text), node.get("Ccy", "")


def _optional_amount(node: etree._Element | None, label: str) -> tuple[str, str]:
    if node is None:
        return "", ""
    value, currency = _amount(node, label)
    return decimal_text(value), currency


def _signed(value: Decimal, indicator: str) -> str:
    return decimal_text(-value if indicator == "DBIT" else value)


def _party_name(parent: etree._Element | None, role: str) -> str:
    # camt.053.001.02 puts the name directly under Dbtr; version 08 and later under Dbtr/Pty.
    return _text(parent, f"{role}/Nm", f"{role}/Pty/Nm")


def _agent_bic(parent: etree._Element | None, role: str) -> str:
    return _text(parent, f"{role}/FinInstnId/BIC", f"{role}/FinInstnId/BICFI")


def _bank_transaction_code(parent: etree._Element | None) -> str:
    """Return "Domain/Family/SubFamily" codes, else the proprietary code."""
    code = _find(parent, "BkTxCd")
    domain = [_text(code, "Domn/Cd"), _text(code, "Domn/Fmly/Cd"), _text(code, "Domn/Fmly/SubFmlyCd")]
    if any(domain):
        return "/".join(part for part in domain if part)
    return _text(code, "Prtry/Cd")


def _message_version(message: etree._Element) -> str:
    namespace = etree.QName(message).namespace or ""
    match = re.search(r"(camt|pain)\.\d{3}\.\d{3}\.\d{2}", namespace)
    return match.group(0) if match else ""


def _find_message(root: etree._Element) -> etree._Element | None:
    if _local(root) in MESSAGES:
        return root
    for element in root.iter():
        if _local(element) in MESSAGES:
            return element
    return None


# ---------------------------------------------------------------------------------------------
# Entry point.


def parse_iso20022(raw: bytes, name: str) -> dict[str, ParsedTable]:
    """Read a camt.052/053/054 or pain.001/008 file into tables keyed by entity name.

    camt messages give "transaction" (one row per Ntry, or per TxDtls of a batch entry) and
    "account" (one row per Stmt, Rpt or Ntfctn). "transaction" is left out when the file has no
    entries. pain messages give "transaction" only.
    """
    document = parse_xml_safely(raw, name)
    message = _find_message(document.root)
    if message is None:
        raise InputFileError(
            name,
            f"is XML with root element {_local(document.root)!r}, not a supported ISO 20022 message",
            "Supported messages: camt.052, camt.053, camt.054, pain.001 and pain.008",
        )
    kind, container = MESSAGES[_local(message)]
    preamble = {"message": _message_version(message) or kind, "GrpHdr.MsgId": _text(message, "GrpHdr/MsgId")}
    if kind.startswith("camt"):
        return _read_camt(message, kind, container, document, name, preamble)
    return _read_pain(message, kind, document, name, preamble)


# ---------------------------------------------------------------------------------------------
# camt.052, camt.053 and camt.054.


def _camt_transaction_columns(container: str) -> list[str]:
    return [
        f"{container}.Id",
        f"{container}.Acct.IBAN",
        f"{container}.Acct.Othr.Id",
        f"{container}.Acct.Ccy",
        "Ntry.NtryRef",
        "Ntry.AcctSvcrRef",
        "Ntry.BookgDt",
        "Ntry.ValDt",
        "Ntry.Amt (signed)",
        "Ntry.Amt.Ccy",
        "Ntry.CdtDbtInd",
        "Ntry.RvslInd",
        "Ntry.Sts",
        "BkTxCd",
        "InstdAmt",
        "InstdAmt.Ccy",
        "TxDtls.Refs.EndToEndId",
        "TxDtls.Refs.TxId",
        "TxDtls.Refs.AcctSvcrRef",
        "TxDtls.Refs.MndtId",
        "RltdPties.Dbtr.Nm",
        "RltdPties.DbtrAcct.IBAN",
        "RltdPties.Cdtr.Nm",
        "RltdPties.CdtrAcct.IBAN",
        "Counterparty.Nm",
        "Counterparty.IBAN",
        "Counterparty.BIC",
        "RmtInf.Ustrd",
        "RmtInf.Strd.CdtrRefInf.Ref",
        "Ntry.AddtlNtryInf",
        "TxDtls.AddtlTxInf",
    ]


ACCOUNT_COLUMNS_AFTER_ID = [
    "Acct.IBAN",
    "Acct.Othr.Id",
    "Acct.Ccy",
    "Acct.Nm",
    "Acct.Ownr.Nm",
    "Acct.Svcr.BIC",
    "Acct.Svcr.Nm",
    "Bal.Opening (signed)",
    "Bal.Opening.Tp",
    "Bal.Opening.Dt",
    "Bal.Closing (signed)",
    "Bal.Closing.Dt",
    "Bal.ClosingAvailable (signed)",
    "Bal.ClosingAvailable.Dt",
    "Bal.Ccy",
]


def _read_camt(
    message: etree._Element,
    kind: str,
    container: str,
    document: XmlDocument,
    name: str,
    preamble: dict[str, str],
) -> dict[str, ParsedTable]:
    reports = _children(message, container)
    if not reports:
        raise InputFileError(name, f"is a {kind} message without any {container} element", "Ask the client for a complete export")

    transaction_rows: list[dict[str, str]] = []
    transaction_lines: list[int] = []
    bad_rows: list[dict] = []
    account_rows: list[dict[str, str]] = []
    account_lines: list[int] = []
    for report in reports:
        account_row = _camt_account_row(report)
        account_rows.append({f"{container}.Id": _text(report, "Id"), **account_row})
        account_lines.append(document.line_of(report))
        context = {
            f"{container}.Id": _text(report, "Id"),
            f"{container}.Acct.IBAN": account_row["Acct.IBAN"],
            f"{container}.Acct.Othr.Id": account_row["Acct.Othr.Id"],
            f"{container}.Acct.Ccy": account_row["Acct.Ccy"],
        }
        for entry in _children(report, "Ntry"):
            try:
                rows = _entry_rows(entry, context, account_row["Acct.IBAN"], document)
            except RowError as problem:
                bad_rows.append({"line": document.line_of(entry), "reason": str(problem)})
                continue
            for row, line in rows:
                transaction_rows.append(row)
                transaction_lines.append(line)

    root_name = _local(message)
    tables: dict[str, ParsedTable] = {}
    if transaction_rows or bad_rows:
        source = standard_source(kind, document.encoding, f"{root_name}/{container}/Ntry", dict(preamble))
        tables["transaction"] = make_table(transaction_rows, _camt_transaction_columns(container), transaction_lines, bad_rows, source)
    source = standard_source(kind, document.encoding, f"{root_name}/{container}", dict(preamble))
    tables["account"] = make_table(account_rows, [f"{container}.Id", *ACCOUNT_COLUMNS_AFTER_ID], account_lines, [], source)
    return tables


def _camt_account_row(report: etree._Element) -> dict[str, str]:
    account = _find(report, "Acct")
    balances: dict[str, etree._Element] = {}
    for balance in _children(report, "Bal"):
        code = _text(balance, "Tp/CdOrPrtry/Cd", "Tp/CdOrPrtry/Prtry")
        balances.setdefault(code, balance)

    # An intraday camt.052 report has no opening booked balance, only the previous closing one.
    opening_code = ""
    for code in ("OPBD", "PRCD"):
        if code in balances:
            opening_code = code
            break
    opening = _balance_cells(balances.get(opening_code))
    closing = _balance_cells(balances.get("CLBD"))
    available = _balance_cells(balances.get("CLAV"))
    balance_currency = next((node.get("Ccy", "") for node in _find_all(report, "Bal/Amt") if node.get("Ccy")), "")
    return {
        "Acct.IBAN": _text(account, "Id/IBAN"),
        "Acct.Othr.Id": _text(account, "Id/Othr/Id"),
        # Many banks leave out Acct/Ccy. The balances then give the only account currency in
        # the file, so their Ccy fills the gap.
        "Acct.Ccy": _text(account, "Ccy") or balance_currency,
        "Acct.Nm": _text(account, "Nm"),
        "Acct.Ownr.Nm": _text(account, "Ownr/Nm", "Ownr/Pty/Nm"),
        "Acct.Svcr.BIC": _agent_bic(account, "Svcr"),
        "Acct.Svcr.Nm": _text(account, "Svcr/FinInstnId/Nm"),
        "Bal.Opening (signed)": opening[0],
        "Bal.Opening.Tp": opening_code,
        "Bal.Opening.Dt": opening[1],
        "Bal.Closing (signed)": closing[0],
        "Bal.Closing.Dt": closing[1],
        "Bal.ClosingAvailable (signed)": available[0],
        "Bal.ClosingAvailable.Dt": available[1],
        "Bal.Ccy": balance_currency,
    }


def _balance_cells(balance: etree._Element | None) -> tuple[str, str]:
    """Return (signed amount, date) of a Bal element, or empty cells when it is absent or invalid."""
    if balance is None:
        return "", ""
    try:
        value, _ = _amount(_find(balance, "Amt"), "Bal/Amt")
    except RowError:
        # NOTE: an invalid balance amount leaves the cell empty instead of rejecting the statement.
        return "", _date(balance, "Dt")
    return _signed(value, _text(balance, "CdtDbtInd")), _date(balance, "Dt")


def _entry_rows(
    entry: etree._Element,
    context: dict[str, str],
    own_iban: str,
    document: XmlDocument,
) -> list[tuple[dict[str, str], int]]:
    """Turn one Ntry into rows: one row, or one per TxDtls when a batch gives each its own amount."""
    amount, currency = _amount(_find(entry, "Amt"), "Ntry/Amt")
    indicator = _text(entry, "CdtDbtInd")
    if indicator not in ("CRDT", "DBIT"):
        raise RowError(f"Ntry/CdtDbtInd is {indicator!r}, expected CRDT or DBIT")

    # The indicator gives the direction of this booking, reversals included, because ISO 20022
    # defines a CRDT entry with RvslInd true as the reversal of an earlier debit. So RvslInd
    # does not change the sign and is passed on as its own column.
    entry_cells = {
        **context,
        "Ntry.NtryRef": _text(entry, "NtryRef"),
        "Ntry.AcctSvcrRef": _text(entry, "AcctSvcrRef"),
        "Ntry.BookgDt": _date(entry, "BookgDt"),
        "Ntry.ValDt": _date(entry, "ValDt"),
        "Ntry.Amt.Ccy": currency,
        "Ntry.RvslInd": _text(entry, "RvslInd"),
        "Ntry.Sts": _text(entry, "Sts", "Sts/Cd"),
        "Ntry.AddtlNtryInf": _joined_text(entry, "AddtlNtryInf"),
    }
    details = _find_all(entry, "NtryDtls/TxDtls")
    batch_amounts = _batch_amounts(details, currency) if len(details) > 1 else None

    if batch_amounts is None:
        # NOTE: a batch whose TxDtls lack amounts in the account currency stays one row, and
        # only its first TxDtls fills the detail columns.
        detail = details[0] if details else None
        instructed = _instructed_amount(detail, entry, amount, currency)
        row = {
            **entry_cells,
            "Ntry.Amt (signed)": _signed(amount, indicator),
            "Ntry.CdtDbtInd": indicator,
            "InstdAmt": instructed[0],
            "InstdAmt.Ccy": instructed[1],
            "BkTxCd": _bank_transaction_code(detail) or _bank_transaction_code(entry),
            **_detail_cells(detail, indicator, own_iban),
        }
        return [(row, document.line_of(entry))]

    rows = []
    for detail, detail_amount in zip(details, batch_amounts):
        detail_indicator = _text(detail, "CdtDbtInd") or indicator
        instructed = _instructed_amount(detail, None, detail_amount, currency)
        row = {
            **entry_cells,
            "Ntry.Amt (signed)": _signed(detail_amount, detail_indicator),
            "Ntry.CdtDbtInd": detail_indicator,
            "InstdAmt": instructed[0],
            "InstdAmt.Ccy": instructed[1],
            "BkTxCd": _bank_transaction_code(detail) or _bank_transaction_code(entry),
            **_detail_cells(detail, detail_indicator, own_iban),
        }
        rows.append((row, document.line_of(detail)))
    return rows


def _batch_amounts(details: list[etree._Element], currency: str) -> list[Decimal] | None:
    """Return each TxDtls's own amount in the account currency, or None unless all have one."""
    amounts = []
    for detail in details:
        own = None
        # TxDtls/Amt exists from camt.05x.001.04 on; AmtDtls exists in every version.
        for path in ("Amt", "AmtDtls/TxAmt/Amt", "AmtDtls/CntrValAmt/Amt", "AmtDtls/InstdAmt/Amt"):
            node = _find(detail, path)
            if node is not None and node.get("Ccy") == currency:
                own, _ = _amount(node, f"TxDtls/{path}")
                break
        if own is None:
            return None
        amounts.append(own)
    return amounts


def _instructed_amount(
    detail: etree._Element | None,
    entry: etree._Element | None,
    amount: Decimal,
    currency: str,
) -> tuple[str, str]:
    """Return the instructed amount and currency, which never replace the booked amount."""
    instructed = _find(detail, "AmtDtls/InstdAmt/Amt")
    if instructed is None and entry is not None:
        instructed = _find(entry, "AmtDtls/InstdAmt/Amt")
    if instructed is not None:
        return _optional_amount(instructed, "AmtDtls/InstdAmt/Amt")

    # Without AmtDtls, TxDtls/Amt is the amount as instructed when it differs from the booking.
    transaction_amount = _find(detail, "Amt")
    if transaction_amount is not None:
        value, transaction_currency = _amount(transaction_amount, "TxDtls/Amt")
        if transaction_currency != currency or value != amount:
            return decimal_text(value), transaction_currency
    return "", ""


def _detail_cells(detail: etree._Element | None, indicator: str, own_iban: str) -> dict[str, str]:
    parties = _find(detail, "RltdPties")
    agents = _find(detail, "RltdAgts")
    debtor = (_party_name(parties, "Dbtr"), _text(parties, "DbtrAcct/Id/IBAN"), _agent_bic(agents, "DbtrAgt"))
    creditor = (_party_name(parties, "Cdtr"), _text(parties, "CdtrAcct/Id/IBAN"), _agent_bic(agents, "CdtrAgt"))

    # Money comes in from the debtor and goes out to the creditor. The statement's own account
    # is never its counterparty, so the other party is taken when the expected one is empty or
    # is the own account and the other party has a different account.
    counterparty, other = (debtor, creditor) if indicator == "CRDT" else (creditor, debtor)
    expected_unusable = not any(counterparty[:2]) or (own_iban and counterparty[1] == own_iban)
    if expected_unusable and other[1] and other[1] != own_iban:
        counterparty = other

    return {
        "TxDtls.Refs.EndToEndId": _text(detail, "Refs/EndToEndId"),
        "TxDtls.Refs.TxId": _text(detail, "Refs/TxId"),
        "TxDtls.Refs.AcctSvcrRef": _text(detail, "Refs/AcctSvcrRef"),
        "TxDtls.Refs.MndtId": _text(detail, "Refs/MndtId"),
        "RltdPties.Dbtr.Nm": debtor[0],
        "RltdPties.DbtrAcct.IBAN": debtor[1],
        "RltdPties.Cdtr.Nm": creditor[0],
        "RltdPties.CdtrAcct.IBAN": creditor[1],
        "Counterparty.Nm": counterparty[0],
        "Counterparty.IBAN": counterparty[1],
        "Counterparty.BIC": counterparty[2],
        "RmtInf.Ustrd": _joined_text(detail, "RmtInf/Ustrd"),
        "RmtInf.Strd.CdtrRefInf.Ref": _text(detail, "RmtInf/Strd/CdtrRefInf/Ref"),
        "TxDtls.AddtlTxInf": _joined_text(detail, "AddtlTxInf"),
    }


# ---------------------------------------------------------------------------------------------
# pain.001 and pain.008.

PAIN001_COLUMNS = [
    "GrpHdr.MsgId",
    "PmtInf.PmtInfId",
    "PmtInf.PmtMtd",
    "PmtInf.ReqdExctnDt",
    "PmtInf.Dbtr.Nm",
    "PmtInf.DbtrAcct.IBAN",
    "PmtInf.DbtrAcct.Othr.Id",
    "PmtInf.DbtrAcct.Ccy",
    "PmtInf.DbtrAgt.BIC",
    "PmtId.InstrId",
    "PmtId.EndToEndId",
    "Amt (signed)",
    "Amt.Ccy",
    "Cdtr.Nm",
    "CdtrAcct.IBAN",
    "CdtrAgt.BIC",
    "Counterparty.Nm",
    "Counterparty.IBAN",
    "RmtInf.Ustrd",
    "RmtInf.Strd.CdtrRefInf.Ref",
]

PAIN008_COLUMNS = [
    "GrpHdr.MsgId",
    "PmtInf.PmtInfId",
    "PmtInf.ReqdColltnDt",
    "PmtInf.SeqTp",
    "PmtInf.LclInstrm",
    "PmtInf.Cdtr.Nm",
    "PmtInf.CdtrAcct.IBAN",
    "PmtInf.CdtrAcct.Othr.Id",
    "PmtInf.CdtrAcct.Ccy",
    "PmtInf.CdtrAgt.BIC",
    "CdtrSchmeId",
    "PmtId.InstrId",
    "PmtId.EndToEndId",
    "InstdAmt (signed)",
    "InstdAmt.Ccy",
    "MndtId",
    "DtOfSgntr",
    "Dbtr.Nm",
    "DbtrAcct.IBAN",
    "DbtrAgt.BIC",
    "Counterparty.Nm",
    "Counterparty.IBAN",
    "RmtInf.Ustrd",
    "RmtInf.Strd.CdtrRefInf.Ref",
]


def _read_pain(
    message: etree._Element,
    kind: str,
    document: XmlDocument,
    name: str,
    preamble: dict[str, str],
) -> dict[str, ParsedTable]:
    transfer = kind == "pain.001"
    element = "CdtTrfTxInf" if transfer else "DrctDbtTxInf"
    rows: list[dict[str, str]] = []
    lines: list[int] = []
    bad_rows: list[dict] = []
    message_id = _text(message, "GrpHdr/MsgId")
    for batch in _children(message, "PmtInf"):
        for transaction in _children(batch, element):
            try:
                if transfer:
                    row = _credit_transfer_row(batch, transaction)
                else:
                    row = _direct_debit_row(batch, transaction)
            except RowError as problem:
                bad_rows.append({"line": document.line_of(transaction), "reason": str(problem)})
                continue
            rows.append({"GrpHdr.MsgId": message_id, **row})
            lines.append(document.line_of(transaction))

    if not rows and not bad_rows:
        raise InputFileError(name, f"is a {kind} message without any PmtInf/{element} element", "Ask the client for a file that contains payments")
    source = standard_source(kind, document.encoding, f"{_local(message)}/PmtInf/{element}", preamble)
    columns = PAIN001_COLUMNS if transfer else PAIN008_COLUMNS
    return {"transaction": make_table(rows, columns, lines, bad_rows, source)}


def _credit_transfer_row(batch: etree._Element, transaction: etree._Element) -> dict[str, str]:
    node = _find(transaction, "Amt/InstdAmt")
    label = "Amt/InstdAmt"
    if node is None:
        node, label = _find(transaction, "Amt/EqvtAmt/Amt"), "Amt/EqvtAmt/Amt"
    amount, currency = _amount(node, label)
    creditor = (_party_name(transaction, "Cdtr"), _text(transaction, "CdtrAcct/Id/IBAN"))
    return {
        "PmtInf.PmtInfId": _text(batch, "PmtInfId"),
        "PmtInf.PmtMtd": _text(batch, "PmtMtd"),
        "PmtInf.ReqdExctnDt": _date(batch, "ReqdExctnDt"),
        "PmtInf.Dbtr.Nm": _party_name(batch, "Dbtr"),
        "PmtInf.DbtrAcct.IBAN": _text(batch, "DbtrAcct/Id/IBAN"),
        "PmtInf.DbtrAcct.Othr.Id": _text(batch, "DbtrAcct/Id/Othr/Id"),
        "PmtInf.DbtrAcct.Ccy": _text(batch, "DbtrAcct/Ccy"),
        "PmtInf.DbtrAgt.BIC": _agent_bic(batch, "DbtrAgt"),
        "PmtId.InstrId": _text(transaction, "PmtId/InstrId"),
        "PmtId.EndToEndId": _text(transaction, "PmtId/EndToEndId"),
        # The file is the debtor's order to pay, and the debtor's account is the table's
        # account, so each transfer is money going out: a negative amount.
        "Amt (signed)": decimal_text(-amount),
        "Amt.Ccy": currency,
        "Cdtr.Nm": creditor[0],
        "CdtrAcct.IBAN": creditor[1],
        "CdtrAgt.BIC": _agent_bic(transaction, "CdtrAgt"),
        "Counterparty.Nm": creditor[0],
        "Counterparty.IBAN": creditor[1],
        "RmtInf.Ustrd": _joined_text(transaction, "RmtInf/Ustrd"),
        "RmtInf.Strd.CdtrRefInf.Ref": _text(transaction, "RmtInf/Strd/CdtrRefInf/Ref"),
    }


def _direct_debit_row(batch: etree._Element, transaction: etree._Element) -> dict[str, str]:
    amount, currency = _amount(_find(transaction, "InstdAmt"), "InstdAmt")
    debtor = (_party_name(transaction, "Dbtr"), _text(transaction, "DbtrAcct/Id/IBAN"))
    # The creditor scheme id sits in the transaction or, for the whole batch, in PmtInf.
    scheme_id = _text(transaction, "DrctDbtTx/CdtrSchmeId/Id/PrvtId/Othr/Id") or _text(batch, "CdtrSchmeId/Id/PrvtId/Othr/Id")
    return {
        "PmtInf.PmtInfId": _text(batch, "PmtInfId"),
        "PmtInf.ReqdColltnDt": _date(batch, "ReqdColltnDt"),
        "PmtInf.SeqTp": _text(transaction, "PmtTpInf/SeqTp") or _text(batch, "PmtTpInf/SeqTp"),
        "PmtInf.LclInstrm": _text(batch, "PmtTpInf/LclInstrm/Cd", "PmtTpInf/LclInstrm/Prtry"),
        "PmtInf.Cdtr.Nm": _party_name(batch, "Cdtr"),
        "PmtInf.CdtrAcct.IBAN": _text(batch, "CdtrAcct/Id/IBAN"),
        "PmtInf.CdtrAcct.Othr.Id": _text(batch, "CdtrAcct/Id/Othr/Id"),
        "PmtInf.CdtrAcct.Ccy": _text(batch, "CdtrAcct/Ccy"),
        "PmtInf.CdtrAgt.BIC": _agent_bic(batch, "CdtrAgt"),
        "CdtrSchmeId": scheme_id,
        "PmtId.InstrId": _text(transaction, "PmtId/InstrId"),
        "PmtId.EndToEndId": _text(transaction, "PmtId/EndToEndId"),
        # The creditor collects, and the creditor's account is the table's account: positive.
        "InstdAmt (signed)": decimal_text(amount),
        "InstdAmt.Ccy": currency,
        "MndtId": _text(transaction, "DrctDbtTx/MndtRltdInf/MndtId"),
        "DtOfSgntr": _date(transaction, "DrctDbtTx/MndtRltdInf/DtOfSgntr"),
        "Dbtr.Nm": debtor[0],
        "DbtrAcct.IBAN": debtor[1],
        "DbtrAgt.BIC": _agent_bic(transaction, "DbtrAgt"),
        "Counterparty.Nm": debtor[0],
        "Counterparty.IBAN": debtor[1],
        "RmtInf.Ustrd": _joined_text(transaction, "RmtInf/Ustrd"),
        "RmtInf.Strd.CdtrRefInf.Ref": _text(transaction, "RmtInf/Strd/CdtrRefInf/Ref"),
    }
