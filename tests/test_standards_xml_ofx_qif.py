"""ISO 20022 (camt, pain), OFX and QIF readers on real bank samples and hand-written edge cases.

Names and IBANs in the real samples are treated as personal data: these tests compare them
with other cells or with the raw file instead of writing them out.
"""

from __future__ import annotations

import re
import time
from decimal import Decimal
from pathlib import Path

import pytest

from onboard.errors import InputFileError
from onboard.standards.iso20022 import parse_iso20022
from onboard.standards.ofx_qif import parse_ofx, parse_qif

REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"


def sample(sample_id: str, filename: str) -> bytes:
    path = REALDATA / sample_id / filename
    if not path.exists():
        pytest.skip(f"real sample {sample_id}/{filename} not found under {REALDATA}")
    return path.read_bytes()


def lines_of(raw: bytes, tag: bytes) -> list[int]:
    """Return the 1-based lines of `raw` whose text, stripped, is exactly `tag`."""
    return [number for number, line in enumerate(raw.splitlines(), start=1) if line.strip() == tag]


def lines_starting(raw: bytes, prefix: bytes) -> list[int]:
    return [number for number, line in enumerate(raw.splitlines(), start=1) if line.startswith(prefix)]


def column(table, name: str) -> list[str]:
    return list(table.frame[name])


def assert_balances_add_up(account_row, amounts: list[str]) -> None:
    opening = Decimal(account_row["Bal.Opening (signed)"])
    closing = Decimal(account_row["Bal.Closing (signed)"])
    assert opening + sum(Decimal(amount) for amount in amounts) == closing


# ---------------------------------------------------------------------------------------------
# Real camt samples


def test_camt052_sparkasse_report():
    raw = sample("camt052_iso20022", "camt052.xml")
    tables = parse_iso20022(raw, "camt052.xml")
    transactions, accounts = tables["transaction"], tables["account"]

    assert len(transactions.frame) == 5
    assert transactions.bad_rows == []
    amounts = column(transactions, "Ntry.Amt (signed)")
    assert amounts[0] == "-30.00"  # <Amt Ccy="EUR">30.00</Amt> with DBIT
    assert amounts[3] == "2.50"  # <Amt Ccy="EUR">2.50</Amt> with CRDT
    assert column(transactions, "Ntry.BookgDt")[0] == "2021-02-05"
    assert set(column(transactions, "Ntry.Amt.Ccy")) == {"EUR"}
    assert column(transactions, "BkTxCd")[0] == "NTRF+116+7002+000"
    assert transactions.line_numbers == lines_of(raw, b"<Ntry>")
    assert transactions.source.kind == "camt.052"
    assert transactions.source.preamble["message"] == "camt.052.001.02"

    assert len(accounts.frame) == 1
    account = accounts.frame.iloc[0]
    assert account["Bal.Opening.Tp"] == "PRCD"
    assert account["Bal.Opening (signed)"] == "268.35"
    assert account["Bal.Closing (signed)"] == "16.95"
    assert account["Bal.Closing.Dt"] == "2021-02-05"
    assert_balances_add_up(account, amounts)


def test_camt052_counterparty_follows_direction():
    raw = sample("camt052_iso20022", "camt052.xml")
    frame = parse_iso20022(raw, "camt052.xml")["transaction"].frame
    debit = frame.iloc[0]
    assert debit["Ntry.CdtDbtInd"] == "DBIT"
    assert debit["Counterparty.Nm"] == debit["RltdPties.Cdtr.Nm"]
    assert debit["Counterparty.IBAN"] == debit["RltdPties.CdtrAcct.IBAN"]
    assert debit["Counterparty.IBAN"] != debit["Rpt.Acct.IBAN"]


def test_camt053_davider80_swiss_statement():
    raw = sample("camt053_davider80", "davider80.xml")
    tables = parse_iso20022(raw, "davider80.xml")
    transactions, accounts = tables["transaction"], tables["account"]

    assert len(transactions.frame) == 16
    amounts = column(transactions, "Ntry.Amt (signed)")
    assert amounts[0] == "-905.3"  # <Amt Ccy="CHF">905.3</Amt> with DBIT
    assert "368" in amounts  # <Amt Ccy="CHF">368</Amt>, the only CRDT entry
    assert amounts.count("368") == 1
    # <Dt>2017-04-01+02:00</Dt>: the date as written, without its time zone.
    assert column(transactions, "Ntry.BookgDt")[0] == "2017-04-01"
    assert column(transactions, "Ntry.ValDt")[0] == "2017-04-03"
    # The account has no Acct/Ccy, so the balances' currency fills it.
    assert set(column(transactions, "Stmt.Acct.Ccy")) == {"CHF"}
    assert column(transactions, "BkTxCd")[0] == "PMNT/RDDT/PMDD"
    assert column(transactions, "InstdAmt") == [""] * 16
    assert transactions.line_numbers == lines_of(raw, b"<Ntry>")

    account = accounts.frame.iloc[0]
    assert account["Acct.Ccy"] == "CHF"
    assert account["Bal.Opening (signed)"] == "9433.31"
    assert account["Bal.Closing (signed)"] == "5753.46"
    assert_balances_add_up(account, amounts)


def test_camt053_gcamp6_duplicate_statement():
    raw = sample("camt053_gcamp6", "gcamp6.xml")
    transactions = parse_iso20022(raw, "gcamp6.xml")["transaction"]

    assert len(transactions.frame) == 5
    amounts = column(transactions, "Ntry.Amt (signed)")
    assert amounts[0] == "10000.00"
    assert amounts[4] == "10.00"
    assert column(transactions, "Ntry.BookgDt")[0] == "2016-04-23"
    # AmtDtls/InstdAmt is kept apart from the booked amount.
    assert column(transactions, "InstdAmt")[0] == "10000.00"
    assert column(transactions, "InstdAmt.Ccy")[0] == "XXX"
    assert column(transactions, "BkTxCd")[4] == "ACMT/ACOP/INTR"


def test_camt053_two_statements_in_one_file():
    raw = sample("camt053_multi_genkgo", "camt053.v2.multi.statement.xml")
    tables = parse_iso20022(raw, "multi.xml")
    transactions, accounts = tables["transaction"], tables["account"]

    assert len(transactions.frame) == 2
    assert len(accounts.frame) == 2
    assert column(transactions, "Ntry.Amt (signed)") == ["8.85", "-7.00"]
    assert column(transactions, "Ntry.BookgDt") == ["2014-12-31", "2014-12-31"]
    assert column(transactions, "Stmt.Id") == column(accounts, "Stmt.Id")
    assert column(transactions, "TxDtls.Refs.EndToEndId") == ["000000001", "000000002"]
    for index, amount in enumerate(column(transactions, "Ntry.Amt (signed)")):
        assert_balances_add_up(accounts.frame.iloc[index], [amount])


def test_camt053_decimal_places_kept():
    raw = sample("camt053_fivedecimals_genkgo", "camt053.v2.five.decimals.xml")
    tables = parse_iso20022(raw, "fivedecimals.xml")

    assert len(tables["transaction"].frame) == 1
    assert column(tables["transaction"], "Ntry.Amt (signed)") == ["8.850"]
    account = tables["account"].frame.iloc[0]
    assert account["Bal.Opening (signed)"] == "18.150"
    assert account["Bal.Closing (signed)"] == "27.050"
    assert account["Bal.Opening.Dt"] == "2014-12-30"


# ---------------------------------------------------------------------------------------------
# Real pain samples


def test_pain001_credit_transfer():
    raw = sample("pain001_sepa", "pain.001.001.03.xml")
    tables = parse_iso20022(raw, "pain001.xml")
    assert set(tables) == {"transaction"}
    frame = tables["transaction"].frame

    assert len(frame) == 1
    row = frame.iloc[0]
    # <InstdAmt Ccy="EUR">12.34</InstdAmt> leaves the debtor's account.
    assert row["Amt (signed)"] == "-12.34"
    assert row["Amt.Ccy"] == "EUR"
    control_sum = re.search(rb"<CtrlSum>([\d.]+)</CtrlSum>", raw).group(1).decode()
    assert -Decimal(row["Amt (signed)"]) == Decimal(control_sum)
    assert row["PmtInf.ReqdExctnDt"] == "2025-08-19"
    assert row["Counterparty.IBAN"] == row["CdtrAcct.IBAN"]
    assert row["PmtInf.DbtrAcct.IBAN"] != ""
    assert row["RmtInf.Strd.CdtrRefInf.Ref"] == "CdtrRefInf-Ref"
    assert tables["transaction"].line_numbers == lines_of(raw, b"<CdtTrfTxInf>")


def test_pain008_direct_debit():
    raw = sample("pain008_sepa", "pain.008.001.02.xml")
    frame = parse_iso20022(raw, "pain008.xml")["transaction"].frame

    assert len(frame) == 1
    row = frame.iloc[0]
    assert row["InstdAmt (signed)"] == "12.34"
    control_sum = re.search(rb"<CtrlSum>([\d.]+)</CtrlSum>", raw).group(1).decode()
    assert Decimal(row["InstdAmt (signed)"]) == Decimal(control_sum)
    assert row["PmtInf.ReqdColltnDt"] == "2025-08-19"
    assert row["MndtId"] == re.search(rb"<MndtId>([^<]+)</MndtId>", raw).group(1).decode()
    assert row["CdtrSchmeId"] == "BG40ZZZ507778"
    assert row["PmtInf.SeqTp"] == "OOFF"
    assert row["PmtInf.LclInstrm"] == "CORE"
    assert row["Counterparty.IBAN"] == row["DbtrAcct.IBAN"]


# ---------------------------------------------------------------------------------------------
# Hand-written camt.053 cases

CAMT_HEADER = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
<BkToCstmrStmt>
<GrpHdr><MsgId>TEST-1</MsgId><CreDtTm>2024-03-01T18:00:00</CreDtTm></GrpHdr>
<Stmt>
<Id>STMT-1</Id>
<Acct><Id><IBAN>{iban}</IBAN></Id><Ccy>{currency}</Ccy></Acct>
"""
CAMT_FOOTER = """</Stmt>
</BkToCstmrStmt>
</Document>
"""
OWN_IBAN = "CH9300762011623852957"


def camt053(entries: str, currency: str = "EUR", iban: str = OWN_IBAN) -> bytes:
    return (CAMT_HEADER.format(iban=iban, currency=currency) + entries + CAMT_FOOTER).encode("utf-8")


def batch_detail(amount: str, name: str, iban: str, reference: str, instructed: str = "") -> str:
    return f"""<TxDtls>
<Refs><EndToEndId>{reference}</EndToEndId></Refs>
<AmtDtls>{instructed}<TxAmt><Amt Ccy="EUR">{amount}</Amt></TxAmt></AmtDtls>
<RltdPties><Cdtr><Nm>{name}</Nm></Cdtr><CdtrAcct><Id><IBAN>{iban}</IBAN></Id></CdtrAcct></RltdPties>
<RmtInf><Ustrd>Invoice {reference}</Ustrd></RmtInf>
</TxDtls>
"""


BATCH_ENTRY = f"""<Ntry>
<Amt Ccy="EUR">60.00</Amt>
<CdtDbtInd>DBIT</CdtDbtInd>
<Sts>BOOK</Sts>
<BookgDt><Dt>2024-03-01</Dt></BookgDt>
<ValDt><Dt>2024-03-01</Dt></ValDt>
<AcctSvcrRef>BATCH-1</AcctSvcrRef>
<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>ICDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>
<NtryDtls>
<Btch><NbOfTxs>3</NbOfTxs></Btch>
{batch_detail("10.00", "Alpha Supplies", "DE89370400440532013000", "E2E-1")}{batch_detail("20.00", "Beta Parts", "FR1420041010050500013M02606", "E2E-2")}{batch_detail("30.00", "Gamma Tools", "NL91ABNA0417164300", "E2E-3", '<InstdAmt><Amt Ccy="USD">32.50</Amt></InstdAmt>')}</NtryDtls>
</Ntry>
<Ntry>
<Amt Ccy="EUR">5.00</Amt>
<CdtDbtInd>CRDT</CdtDbtInd>
<Sts>BOOK</Sts>
<BookgDt><Dt>2024-03-02</Dt></BookgDt>
</Ntry>
"""


def test_camt_batch_entry_one_row_per_detail():
    raw = camt053(BATCH_ENTRY)
    table = parse_iso20022(raw, "batch.xml")["transaction"]
    frame = table.frame

    assert len(frame) == 4
    assert column(table, "Ntry.Amt (signed)") == ["-10.00", "-20.00", "-30.00", "5.00"]
    assert column(table, "TxDtls.Refs.EndToEndId") == ["E2E-1", "E2E-2", "E2E-3", ""]
    assert column(table, "Counterparty.Nm")[:3] == ["Alpha Supplies", "Beta Parts", "Gamma Tools"]
    assert column(table, "Counterparty.IBAN")[1] == "FR1420041010050500013M02606"
    assert column(table, "Ntry.AcctSvcrRef")[:3] == ["BATCH-1"] * 3
    assert column(table, "BkTxCd")[0] == "PMNT/ICDT/ESCT"
    assert column(table, "InstdAmt")[:3] == ["", "", "32.50"]
    assert column(table, "InstdAmt.Ccy")[:3] == ["", "", "USD"]
    assert table.line_numbers[:3] == lines_of(raw, b"<TxDtls>")
    assert table.line_numbers[3] == lines_of(raw, b"<Ntry>")[1]


def test_camt_batch_without_amounts_one_row():
    entry = """<Ntry><Amt Ccy="EUR">30.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts>BOOK</Sts>
<BookgDt><Dt>2024-03-01</Dt></BookgDt>
<NtryDtls><TxDtls><Refs><EndToEndId>A</EndToEndId></Refs></TxDtls>
<TxDtls><Refs><EndToEndId>B</EndToEndId></Refs></TxDtls></NtryDtls></Ntry>
"""
    table = parse_iso20022(camt053(entry), "batch.xml")["transaction"]
    assert column(table, "Ntry.Amt (signed)") == ["-30.00"]
    assert column(table, "TxDtls.Refs.EndToEndId") == ["A"]


def test_camt_batch_details_with_own_indicator():
    # From camt.053.001.04 on, each TxDtls may carry Amt and CdtDbtInd of its own.
    entry = """<Ntry><Amt Ccy="EUR">15.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
<BookgDt><DtTm>2024-03-01T23:30:00+01:00</DtTm></BookgDt>
<NtryDtls>
<TxDtls><Amt Ccy="EUR">20.00</Amt><CdtDbtInd>CRDT</CdtDbtInd></TxDtls>
<TxDtls><Amt Ccy="EUR">5.00</Amt><CdtDbtInd>DBIT</CdtDbtInd></TxDtls>
</NtryDtls></Ntry>
"""
    table = parse_iso20022(camt053(entry), "batch.xml")["transaction"]
    assert column(table, "Ntry.Amt (signed)") == ["20.00", "-5.00"]
    assert column(table, "Ntry.CdtDbtInd") == ["CRDT", "DBIT"]
    assert column(table, "Ntry.Sts") == ["BOOK", "BOOK"]
    assert column(table, "Ntry.BookgDt") == ["2024-03-01", "2024-03-01"]


FOREIGN_ENTRY = """<Ntry>
<Amt Ccy="CHF">95.20</Amt>
<CdtDbtInd>DBIT</CdtDbtInd>
<Sts>BOOK</Sts>
<BookgDt><Dt>2024-03-04</Dt></BookgDt>
<ValDt><Dt>2024-03-05</Dt></ValDt>
<AmtDtls>
<InstdAmt><Amt Ccy="EUR">100.00</Amt></InstdAmt>
<TxAmt><Amt Ccy="CHF">95.20</Amt></TxAmt>
</AmtDtls>
<NtryDtls><TxDtls>
<AmtDtls><InstdAmt><Amt Ccy="EUR">100.00</Amt></InstdAmt></AmtDtls>
<RltdPties><Cdtr><Nm>Hotel Berlin</Nm></Cdtr><CdtrAcct><Id><IBAN>DE89370400440532013000</IBAN></Id></CdtrAcct></RltdPties>
</TxDtls></NtryDtls>
</Ntry>
<Ntry>
<Amt Ccy="CHF">47.60</Amt>
<CdtDbtInd>CRDT</CdtDbtInd>
<Sts>BOOK</Sts>
<BookgDt><Dt>2024-03-06</Dt></BookgDt>
<NtryDtls><TxDtls><Amt Ccy="EUR">50.00</Amt></TxDtls></NtryDtls>
</Ntry>
"""


def test_camt_foreign_currency_kept_apart():
    table = parse_iso20022(camt053(FOREIGN_ENTRY, currency="CHF"), "fx.xml")["transaction"]
    first, second = table.frame.iloc[0], table.frame.iloc[1]

    assert first["Ntry.Amt (signed)"] == "-95.20"
    assert first["Ntry.Amt.Ccy"] == "CHF"
    assert first["InstdAmt"] == "100.00"
    assert first["InstdAmt.Ccy"] == "EUR"
    assert first["Stmt.Acct.Ccy"] == "CHF"
    assert first["Counterparty.Nm"] == "Hotel Berlin"

    # Without AmtDtls, a TxDtls/Amt in another currency is the instructed amount.
    assert second["Ntry.Amt (signed)"] == "47.60"
    assert second["InstdAmt"] == "50.00"
    assert second["InstdAmt.Ccy"] == "EUR"


def test_camt_reversal_keeps_indicator_sign():
    # ISO 20022: CRDT with RvslInd true is the reversal of an earlier debit, so money comes in.
    entry = """<Ntry><Amt Ccy="EUR">12.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><RvslInd>true</RvslInd>
<Sts>BOOK</Sts><BookgDt><Dt>2024-03-07</Dt></BookgDt></Ntry>
"""
    table = parse_iso20022(camt053(entry), "reversal.xml")["transaction"]
    assert column(table, "Ntry.Amt (signed)") == ["12.00"]
    assert column(table, "Ntry.RvslInd") == ["true"]


def test_camt_counterparty_is_never_own_account():
    # A credit whose only named party is the creditor with another account.
    entry = f"""<Ntry><Amt Ccy="EUR">8.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>
<BookgDt><Dt>2024-03-08</Dt></BookgDt>
<NtryDtls><TxDtls><RltdPties>
<Dbtr><Nm>Own Company</Nm></Dbtr><DbtrAcct><Id><IBAN>{OWN_IBAN}</IBAN></Id></DbtrAcct>
<Cdtr><Nm>Refund Shop</Nm></Cdtr><CdtrAcct><Id><IBAN>DE89370400440532013000</IBAN></Id></CdtrAcct>
</RltdPties></TxDtls></NtryDtls></Ntry>
"""
    row = parse_iso20022(camt053(entry), "own.xml")["transaction"].frame.iloc[0]
    assert row["Counterparty.Nm"] == "Refund Shop"
    assert row["Counterparty.IBAN"] == "DE89370400440532013000"


def test_camt_invalid_amount_becomes_bad_row():
    entries = """<Ntry><Amt Ccy="EUR">12,50</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts>BOOK</Sts></Ntry>
<Ntry><Amt Ccy="EUR">3.00</Amt><CdtDbtInd>SIDEWAYS</CdtDbtInd><Sts>BOOK</Sts></Ntry>
<Ntry><Amt Ccy="EUR">4.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts>BOOK</Sts></Ntry>
"""
    raw = camt053(entries)
    table = parse_iso20022(raw, "bad.xml")["transaction"]
    assert column(table, "Ntry.Amt (signed)") == ["-4.00"]
    assert [bad["line"] for bad in table.bad_rows] == lines_starting(raw, b"<Ntry>")[:2]
    assert "12,50" in table.bad_rows[0]["reason"]
    assert "SIDEWAYS" in table.bad_rows[1]["reason"]
    assert table.data_rows == 3


def test_camt054_with_prefixed_namespace():
    raw = b"""<?xml version="1.0"?>
<c:Document xmlns:c="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08">
<c:BkToCstmrDbtCdtNtfctn><c:GrpHdr><c:MsgId>N1</c:MsgId></c:GrpHdr>
<c:Ntfctn><c:Id>N1-1</c:Id><c:Acct><c:Id><c:Othr><c:Id>0012345678</c:Id></c:Othr></c:Id><c:Ccy>USD</c:Ccy></c:Acct>
<c:Ntry><c:Amt Ccy="USD">1500.00001</c:Amt><c:CdtDbtInd>CRDT</c:CdtDbtInd><c:Sts><c:Cd>BOOK</c:Cd></c:Sts>
<c:BookgDt><c:Dt>2024-05-01</c:Dt></c:BookgDt>
<c:NtryDtls><c:TxDtls><c:RltdPties><c:Dbtr><c:Pty><c:Nm>Payer Inc</c:Nm></c:Pty></c:Dbtr></c:RltdPties></c:TxDtls></c:NtryDtls>
</c:Ntry></c:Ntfctn></c:BkToCstmrDbtCdtNtfctn></c:Document>
"""
    tables = parse_iso20022(raw, "camt054.xml")
    row = tables["transaction"].frame.iloc[0]
    assert tables["transaction"].source.kind == "camt.054"
    assert row["Ntry.Amt (signed)"] == "1500.00001"
    assert row["Ntfctn.Acct.Othr.Id"] == "0012345678"
    assert row["Counterparty.Nm"] == "Payer Inc"
    assert tables["account"].frame.iloc[0]["Acct.Ccy"] == "USD"


def test_camt_without_namespace():
    raw = camt053(FOREIGN_ENTRY, currency="CHF").replace(b' xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"', b"")
    table = parse_iso20022(raw, "plain.xml")["transaction"]
    assert column(table, "Ntry.Amt (signed)") == ["-95.20", "47.60"]
    assert column(table, "InstdAmt") == ["100.00", "50.00"]
    assert table.source.preamble["message"] == "camt.053"


def test_camt_without_entries_omits_transactions():
    tables = parse_iso20022(camt053(""), "empty.xml")
    assert set(tables) == {"account"}


def test_xml_other_than_iso20022_rejected():
    with pytest.raises(InputFileError) as caught:
        parse_iso20022(b"<?xml version='1.0'?><invoice><total>3</total></invoice>", "invoice.xml")
    assert "invoice.xml" in str(caught.value)
    assert "camt.053" in str(caught.value)


# ---------------------------------------------------------------------------------------------
# Hostile and broken XML

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE Document [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt><Stmt><Id>&secret;</Id>
<Ntry><Amt Ccy="EUR">1.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><AddtlNtryInf>&secret;</AddtlNtryInf></Ntry>
</Stmt></BkToCstmrStmt></Document>
"""

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
<!ENTITY lol "lol">
<!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
<!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
<!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
<!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
<!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
<!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<Document><BkToCstmrStmt><Stmt><Id>&lol9;</Id></Stmt></BkToCstmrStmt></Document>
"""


def passwd_fragments() -> list[str]:
    path = Path("/etc/passwd")
    if not path.exists():
        return ["root:x:0:0"]
    return [line for line in path.read_text(errors="replace").splitlines()[:3] if line]


def test_xxe_rejected_without_reading_file():
    with pytest.raises(InputFileError) as caught:
        parse_iso20022(XXE, "xxe.xml")
    message = str(caught.value)
    assert "xxe.xml" in message
    assert "entities" in message
    assert "not allowed" in message
    for fragment in passwd_fragments():
        assert fragment not in message


def test_xxe_in_utf16_rejected():
    # UTF-16 hides the "<!ENTITY" bytes, so the check on the parsed DTD must catch it.
    raw = XXE.decode("ascii").replace('version="1.0"', 'version="1.0" encoding="UTF-16"').encode("utf-16")
    with pytest.raises(InputFileError) as caught:
        parse_iso20022(raw, "xxe16.xml")
    assert "entities" in str(caught.value)


def test_parameter_entity_rejected():
    raw = b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY % remote SYSTEM "file:///etc/passwd"> %remote;]>
<Document><BkToCstmrStmt/></Document>
"""
    with pytest.raises(InputFileError) as caught:
        parse_iso20022(raw, "param.xml")
    assert "entities" in str(caught.value)


def test_external_dtd_rejected():
    raw = b"""<?xml version="1.0"?>
<!DOCTYPE Document SYSTEM "file:///etc/passwd">
<Document><BkToCstmrStmt><Stmt><Id>&x;</Id></Stmt></BkToCstmrStmt></Document>
"""
    with pytest.raises(InputFileError) as caught:
        parse_iso20022(raw, "dtd.xml")
    assert "entities" in str(caught.value)


def test_billion_laughs_rejected_quickly():
    started = time.perf_counter()
    with pytest.raises(InputFileError) as caught:
        parse_iso20022(BILLION_LAUGHS, "laughs.xml")
    assert time.perf_counter() - started < 2
    assert "laughs.xml" in str(caught.value)
    assert "entities" in str(caught.value)


def test_truncated_xml_names_file_and_line():
    raw = sample("camt053_multi_genkgo", "camt053.v2.multi.statement.xml")
    cut = raw[: raw.index(b"<Ntry>") + 40]
    last_line = cut.count(b"\n") + 1
    with pytest.raises(InputFileError) as caught:
        parse_iso20022(cut, "cut.xml")
    message = str(caught.value)
    assert message.startswith("cut.xml: is not well-formed XML")
    assert f"line {last_line}" in message


# ---------------------------------------------------------------------------------------------
# OFX


def test_ofx_checking_sgml():
    raw = sample("ofx_checking_ofxparse", "checking.ofx")
    tables = parse_ofx(raw, "checking.ofx")
    transactions, accounts = tables["transaction"], tables["account"]

    assert len(transactions.frame) == 3
    assert column(transactions, "TRNAMT") == ["0.01", "-34.51", "-25.00"]
    assert column(transactions, "TRNTYPE") == ["CREDIT", "DEBIT", "CHECK"]
    assert column(transactions, "DTPOSTED")[0] == "2011-03-31"  # <DTPOSTED>20110331120000.000
    assert column(transactions, "CHECKNUM") == ["", "", "319"]
    assert column(transactions, "FITID") == ["0000486", "0000487", "0000488"]
    assert set(column(transactions, "CURDEF")) == {"USD"}
    assert set(column(transactions, "ACCTID")) == {"1452687~7"}
    assert column(transactions, "MEMO")[2].endswith("FOR $45.33 ON 04/07/11")
    assert transactions.line_numbers == lines_of(raw, b"<STMTTRN>")
    assert transactions.source.preamble["CHARSET"] == "1252"
    assert transactions.source.encoding == "cp1252"

    account = accounts.frame.iloc[0]
    assert account["BANKID"] == "5472369148"  # longer than the specification's 9 characters
    assert account["ACCTTYPE"] == "CHECKING"
    assert account["LEDGERBAL.BALAMT"] == "100.99"
    assert account["LEDGERBAL.DTASOF"] == "2013-05-25"
    assert account["AVAILBAL.BALAMT"] == "75.99"


def test_ofx_suncorp_xml():
    raw = sample("ofx_suncorp_au", "suncorp.ofx")
    tables = parse_ofx(raw, "suncorp.ofx")
    transactions, accounts = tables["transaction"], tables["account"]

    assert len(transactions.frame) == 1
    row = transactions.frame.iloc[0]
    assert row["TRNAMT"] == "-16.85"
    assert row["DTPOSTED"] == "2013-12-15"
    assert row["CURDEF"] == "AUD"
    assert row["MEMO"].startswith("EFTPOS WDL")  # from CDATA
    assert transactions.line_numbers == lines_of(raw, b"<STMTTRN>")
    assert accounts.frame.iloc[0]["LEDGERBAL.BALAMT"] == "1234.12"
    assert transactions.source.preamble["VERSION"] == "200"


def test_ofx_two_accounts_without_transactions():
    raw = sample("ofx_multiple_accounts", "multiple_accounts2.ofx")
    tables = parse_ofx(raw, "multi.ofx")

    assert set(tables) == {"account"}
    accounts = tables["account"]
    assert column(accounts, "ACCTID") == ["9100", "9200"]
    assert column(accounts, "ACCTTYPE") == ["CHECKING", "SAVINGS"]
    assert column(accounts, "LEDGERBAL.BALAMT") == ["111", "222"]
    # <DTASOF>20120603133220.000[-7:PDT]: the date as written, not converted to UTC.
    assert column(accounts, "LEDGERBAL.DTASOF") == ["2012-06-03", "2012-06-03"]


SGML_HEADER = "OFXHEADER:100\nDATA:OFXSGML\nVERSION:102\nENCODING:USASCII\nCHARSET:1252\n\n"


def sgml_statement(transactions: str) -> bytes:
    return (
        SGML_HEADER
        + "<OFX><BANKMSGSRSV1><STMTTRNRS><TRNUID>1<STMTRS><CURDEF>EUR\n"
        + "<BANKACCTFROM><BANKID>1<ACCTID>42<ACCTTYPE>SAVINGS</BANKACCTFROM>\n"
        + "<BANKTRANLIST>\n"
        + transactions
        + "</BANKTRANLIST></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>\n"
    ).encode("cp1252")


def test_ofx_sgml_edge_cases():
    raw = sgml_statement(
        "<STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20110405220000.000[-7:PDT]<TRNAMT>-3,50<FITID>1<NAME>Caf\xe9 &amp; Bar</STMTTRN>\n"
        # An empty MEMO breaks the specification; the elements after it still belong to STMTTRN.
        + "<STMTTRN><TRNTYPE>CREDIT<MEMO>\n<DTPOSTED>20110406<TRNAMT>+1200<FITID>2</STMTTRN>\n"
        + "<STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20110407<TRNAMT>ten<FITID>3</STMTTRN>\n"
    )
    table = parse_ofx(raw, "edge.ofx")["transaction"]

    assert column(table, "TRNAMT") == ["-3.50", "1200"]
    # 22:00 at -7:00 is the next day in UTC; the date stays the one written.
    assert column(table, "DTPOSTED") == ["2011-04-05", "2011-04-06"]
    assert column(table, "NAME")[0] == "Caf\xe9 & Bar"
    assert column(table, "FITID") == ["1", "2"]
    assert len(table.bad_rows) == 1
    assert "ten" in table.bad_rows[0]["reason"]


def test_ofx_statement_without_transactions():
    raw = sgml_statement("")
    tables = parse_ofx(raw, "none.ofx")
    assert set(tables) == {"account"}
    assert column(tables["account"], "ACCTID") == ["42"]


def test_ofx_without_statement_rejected():
    raw = (
        SGML_HEADER
        + "<OFX><SIGNONMSGSRSV1><SONRS><STATUS><CODE>15500<SEVERITY>ERROR<MESSAGE>Invalid password</STATUS>"
        + "</SONRS></SIGNONMSGSRSV1></OFX>\n"
    ).encode("ascii")
    with pytest.raises(InputFileError) as caught:
        parse_ofx(raw, "signon.ofx")
    message = str(caught.value)
    assert "signon.ofx" in message
    assert "no bank or credit card statement" in message
    assert "Invalid password" in message


def test_ofx_cut_off_sgml_rejected():
    raw = sgml_statement("<STMTTRN><TRNTYPE>DEBIT<TRNAMT>-1.00</STMTTRN>\n")
    cut = raw[: raw.index(b"</BANKTRANLIST>")]
    with pytest.raises(InputFileError) as caught:
        parse_ofx(cut, "cut.ofx")
    assert "cut.ofx: is cut off" in str(caught.value)


def test_ofx_xml_entity_rejected():
    raw = b"""<?xml version="1.0"?>
<?OFX OFXHEADER="200" VERSION="211"?>
<!DOCTYPE OFX [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<OFX><BANKMSGSRSV1><STMTTRNRS><STMTRS><CURDEF>USD</CURDEF><BANKTRANLIST><STMTTRN><TRNAMT>1</TRNAMT><MEMO>&x;</MEMO></STMTTRN></BANKTRANLIST></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>
"""
    with pytest.raises(InputFileError) as caught:
        parse_ofx(raw, "xxe.ofx")
    assert "entities" in str(caught.value)
    for fragment in passwd_fragments():
        assert fragment not in str(caught.value)


# ---------------------------------------------------------------------------------------------
# QIF


def test_qif_actual_with_categories():
    raw = sample("qif_actual", "data-with-categories.qif")
    tables = parse_qif(raw, "data.qif")
    assert set(tables) == {"transaction"}
    table = tables["transaction"]

    assert len(table.frame) == 3
    assert column(table, "T (Amount)") == ["-100.58", "-20.15", "-40.60"]
    assert column(table, "D (Date)")[0] == "12/19/18"
    assert column(table, "L (Category)")[0] == "Usual Expenses:Shopping"
    assert column(table, "!Type") == ["Bank"] * 3
    # Each record starts on the line after the header or after the previous record's "^".
    record_starts = [number + 1 for number in lines_of(raw, b"!Type:Bank") + lines_of(raw, b"^")]
    assert table.line_numbers == record_starts[:3]


def test_qif_accounts_splits_and_bad_records():
    raw = (
        "!Option:AutoSwitch\n!Account\nNChecking\nTBank\n$1,250.00\n^\n!Clear:AutoSwitch\n"
        "!Type:Bank\n"
        "D1/ 2'24\nU-50.00\nT-50.00\nPSupermarket\nNATM\nA1 Main St\nASpringfield\n"
        "SFood\n$-30.00\nEweekly\nSHousehold\n$-20.00\n^\n"
        "D1/3'24\nPNo amount\n^\n"
        "!Type:Cat\nNFood\nE\n^\n"
        "!Type:CCard\nD01/04/2024\nT15.00\nPRefund\n"
    ).encode("cp1252")
    tables = parse_qif(raw, "splits.qif")
    transactions, accounts = tables["transaction"], tables["account"]

    assert len(transactions.frame) == 2
    first, last = transactions.frame.iloc[0], transactions.frame.iloc[1]
    assert first["T (Amount)"] == "-50.00"
    assert first["D (Date)"] == "1/ 2'24"
    assert first["Account.N (Name)"] == "Checking"
    assert first["A (Address)"] == "1 Main St, Springfield"
    assert first["S (Split categories)"] == "Food | Household"
    assert first["$ (Split amounts)"] == "-30.00 | -20.00"
    assert first["E (Split memos)"] == "weekly"
    # The last record has no closing "^".
    assert last["T (Amount)"] == "15.00"
    assert last["!Type"] == "CCard"
    assert transactions.bad_rows == [{"line": 22, "reason": "the record has no T or U amount"}]
    assert column(accounts, "N (Name)") == ["Checking"]
    assert column(accounts, "$ (Balance)") == ["1,250.00"]


def test_qif_without_transactions_rejected():
    with pytest.raises(InputFileError) as caught:
        parse_qif(b"!Type:Cat\nNFood\n^\n", "cats.qif")
    assert "cats.qif" in str(caught.value)
    assert "no transactions" in str(caught.value)


def test_qif_investment_only_rejected():
    with pytest.raises(InputFileError) as caught:
        parse_qif(b"!Type:Invst\nD1/2/24\nNBuy\nYACME\nI10\nQ5\nT50\n^\n", "invest.qif")
    assert "investment" in str(caught.value)
