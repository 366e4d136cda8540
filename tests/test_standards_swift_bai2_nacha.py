"""SWIFT MT940/MT942, BAI2 and NACHA readers on real published files and on broken input.

The expected values were read off the raw files by hand: the :61:, 16 and 6 records
quoted in the comments are the lines they come from.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from onboard.errors import InputFileError
from onboard.standards.bai2 import parse_bai2
from onboard.standards.nacha import parse_nacha
from onboard.standards.swift_mt import parse_mt

REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"


def sample(relative: str) -> tuple[bytes, str]:
    path = REALDATA / relative
    if not path.exists():
        pytest.skip(f"real sample {relative} not found: the shared realdata folder is absent next to the project")
    return path.read_bytes(), relative


def cell(table, row: int, column: str) -> str:
    return table.frame.iloc[row][column]


def check_table_shape(table) -> None:
    assert len(table.line_numbers) == len(table.frame)
    assert table.source.columns == list(table.frame.columns)
    assert all(isinstance(value, str) for value in table.frame.to_numpy().ravel())


# --- SWIFT MT940 / MT942 ---------------------------------------------------------------

# (sample, statements, transactions, line of each :61:)
MT_COUNTS = [
    ("mt940_citi/mt940.txt", 1, 5, [5, 9, 13, 15, 17]),
    ("mt940_abnamro/abnamro.sta", 2, 10, [8, 12, 14, 16, 18, 20, 23, 25, 36, 38]),
    ("mt940_rabobank/rabobank.sta", 4, 5, [6, 23, 26, 34, 39]),
    ("mt940_ing/ing.sta", 1, 7, [8, 12, 14, 16, 18, 20, 22]),
    ("mt940_postfinance/postfinance.sta", 2, 4, [5, 9, 19, 24]),
    ("mt940_sberbank/171011_01234945.sta", 1, 3, [12, 24, 35]),
    ("mt940_sepa_betterplace/sepa_mt9401.sta", 26, 97, None),
    ("mt942_mbank/mt942.sta", 1, 3, [7, 13, 19]),
]


@pytest.mark.parametrize("relative,statements,transactions,lines", MT_COUNTS, ids=[c[0].split("/")[0] for c in MT_COUNTS])
def test_mt_row_counts_and_lines(relative, statements, transactions, lines):
    tables = parse_mt(*sample(relative))
    assert set(tables) == {"transaction", "account"}
    assert len(tables["transaction"].frame) == transactions
    assert len(tables["account"].frame) == statements
    if lines is not None:
        assert tables["transaction"].line_numbers == lines
    check_table_shape(tables["transaction"])
    check_table_shape(tables["account"])


def test_mt940_citi_values():
    tables = parse_mt(*sample("mt940_citi/mt940.txt"))
    transactions, account = tables["transaction"], tables["account"]
    # :61:240312    DD212,39NMSCNONREF// : debit mark D, funds code D (USD), no entry date.
    assert cell(transactions, 0, "61.mark") == "D"
    assert cell(transactions, 0, "61.funds code") == "D"
    assert cell(transactions, 0, "61.amount (signed)") == "-212.39"
    assert cell(transactions, 0, "61.value date") == "240312"
    # Citi writes no entry date; the reader gives the value date, as the field's definition says.
    assert cell(transactions, 0, "61.entry date") == "240312"
    assert cell(transactions, 0, "61.transaction type") == "NMSC"
    assert cell(transactions, 0, "61.customer reference") == "NONREF"
    assert cell(transactions, 0, "61.supplementary details") == "/ABC/DEF/MISCELLANEOUS"
    # :61:240312    CD0,00NDEFNONREF//
    assert cell(transactions, 2, "61.mark") == "C"
    assert cell(transactions, 2, "61.amount (signed)") == "0.00"
    # :61:240312    DD561,08NDEFNONREF//
    assert cell(transactions, 4, "61.amount (signed)") == "-561.08"
    # The :86: continuation line "   123456789" is joined to the first line.
    assert cell(transactions, 0, "86.details").endswith("112233   123456789")
    assert set(transactions.frame["currency"]) == {"USD"}
    assert cell(account, 0, "25.account") == "123456789"
    assert cell(account, 0, "60a.amount (signed)") == "17376.67"
    assert cell(account, 0, "62a.amount (signed)") == "16233.92"
    assert cell(account, 0, "64.amount (signed)") == "16233.92"


def test_mt940_abnamro_values():
    tables = parse_mt(*sample("mt940_abnamro/abnamro.sta"))
    transactions, account = tables["transaction"], tables["account"]
    # :61:1105240524D9,N192NONREF : an amount with no decimals.
    assert cell(transactions, 0, "61.amount (signed)") == "-9"
    assert cell(transactions, 0, "61.amount") == "9,"
    # :61:1105210523D11,59N426NONREF : the entry date MMDD gets the value date's year.
    assert cell(transactions, 1, "61.value date") == "110521"
    assert cell(transactions, 1, "61.entry date") == "110523"
    assert cell(transactions, 1, "61.amount (signed)") == "-11.59"
    # :61:1105210523D107,N426NONREF
    assert cell(transactions, 6, "61.amount (signed)") == "-107"
    assert "BETREFT FACTUUR D.D. 20-05-2011 INCL. 1,44 BTW" in cell(transactions, 0, "86.details")
    # The second statement has intermediate balances :60M: and :62M:.
    assert cell(account, 1, "60a.option") == "M"
    assert cell(account, 1, "62a.amount (signed)") == "1849.75"
    assert cell(account, 1, "28C.statement number") == "19322"


def test_mt940_rabobank_values():
    transactions = parse_mt(*sample("mt940_rabobank/rabobank.sta"))["transaction"]
    # :61:110527D000000001213,28N0440121470966      W.P. Jansen : 12-digit zero-padded amount
    # and the counterparty name after the 16-character reference.
    assert cell(transactions, 0, "61.amount (signed)") == "-1213.28"
    assert cell(transactions, 0, "61.value date") == "110527"
    assert cell(transactions, 0, "61.customer reference") == "0121470966"
    assert cell(transactions, 0, "61.supplementary details") == "W.P. Jansen"
    # The four :86: fields of that transaction are joined in order.
    assert cell(transactions, 0, "86.details") == "Terugboeking NIET AKKOORD MET AFSCHRIJVING KOSTEN KINDEROPVANG JUNI 20095731"
    # :61:120829D000000000006,20NMSCP000029225      NS-Utrecht C. 117 UTRECHT
    assert cell(transactions, 4, "61.amount (signed)") == "-6.20"
    assert cell(transactions, 4, "25.account") == "1526.89.184EUR"


def test_mt940_ing_values():
    tables = parse_mt(*sample("mt940_ing/ing.sta"))
    transactions, account = tables["transaction"], tables["account"]
    # :61:100722D25,03NTRFNONREF
    assert cell(transactions, 0, "61.amount (signed)") == "-25.03"
    assert cell(transactions, 0, "61.value date") == "100722"
    # :61:100722C3,68NTRFNONREF
    assert cell(transactions, 5, "61.amount (signed)") == "3.68"
    # :61:100722D1,11NTRFTMG TANGO
    assert cell(transactions, 2, "61.customer reference") == "TMG TANGO"
    # The :86: after :62F: describes the statement, not the last transaction.
    assert cell(account, 0, "86.details") == "D000004C000002D25,24C28,71"
    assert "D000004C" not in cell(transactions, 6, "86.details")


def test_mt940_postfinance_values():
    tables = parse_mt(*sample("mt940_postfinance/postfinance.sta"))
    transactions, account = tables["transaction"], tables["account"]
    # :61:1312091209C79,7FMSC01916//NONREF
    assert cell(transactions, 0, "61.amount (signed)") == "79.7"
    assert cell(transactions, 0, "61.customer reference") == "01916"
    assert cell(transactions, 0, "61.bank reference") == "NONREF"
    assert cell(transactions, 0, "61.supplementary details") == "20131209007602198765432000000012"
    # :61:1312161216D79,9FMSC01916//NONREF
    assert cell(transactions, 2, "61.amount (signed)") == "-79.9"
    assert cell(transactions, 2, "61.entry date") == "131216"
    # A full 65-character :86: line was wrapped mid-word: "SONNE" + "NGLAESER".
    assert cell(transactions, 2, "86.details").endswith("MITTEILUNGEN: 1 SONNENGLAESER")
    # :60F:C131130CHF0,
    assert cell(account, 0, "60a.amount (signed)") == "0"
    assert cell(account, 0, "62a.option") == "M"
    assert cell(account, 1, "60a.option") == "M"


def test_mt940_sberbank_ns_fields():
    tables = parse_mt(*sample("mt940_sberbank/171011_01234945.sta"))
    transactions, account = tables["transaction"], tables["account"]
    # :61:1710111011DF2402,00S   X : funds code F (HUF), CRLF line ends.
    assert cell(transactions, 0, "61.amount (signed)") == "-2402.00"
    assert cell(transactions, 0, "61.funds code") == "F"
    assert cell(transactions, 0, "61.entry date") == "171011"
    assert cell(transactions, 2, "61.amount (signed)") == "-3575.00"
    assert cell(transactions, 0, "currency") == "HUF"
    # The :NS: lines after each :61: stay with that transaction, split by their 2-digit codes.
    assert cell(transactions, 0, "NS.17") == "G200000137791678"
    assert cell(transactions, 1, "NS.17") == "G200000015891789"
    assert cell(transactions, 0, "NS").startswith("01526715\n")
    # The :NS: before :60F: belongs to the statement.
    assert cell(account, 0, "NS.25") == "171004171011"
    assert cell(account, 0, "64.amount (signed)") == "617874.30"


def test_mt940_betterplace_sepa_details():
    tables = parse_mt(*sample("mt940_sepa_betterplace/sepa_mt9401.sta"))
    transactions, account = tables["transaction"], tables["account"]
    frame = transactions.frame
    # "CR300," is mark C with funds code R (EUR); "RCR204,88" is the reversal mark RC.
    assert frame["61.mark"].value_counts().to_dict() == {"D": 54, "C": 41, "RC": 2}
    assert set(frame["61.funds code"]) == {"R"}

    # :61:0709040904CR300,NTRFTFNr 40005 MSGID//0724710345313905
    assert cell(transactions, 0, "61.amount (signed)") == "300"
    assert cell(transactions, 0, "61.customer reference") == "TFNr 40005 MSGID"
    assert cell(transactions, 0, "61.bank reference") == "0724710345313905"
    # :61:0709040904RCR204,88NRTINONREF at line 19: a reversed credit takes money out.
    reversal = transactions.line_numbers.index(19)
    assert cell(transactions, reversal, "61.mark") == "RC"
    assert cell(transactions, reversal, "61.amount (signed)") == "-204.88"

    # :86:159?00RETOURE?100399?20EREF+TFNR 40005 00005?21MTLG:Grund nicht s / pezifizie?22rt ...
    assert cell(transactions, 0, "86.transaction code (GVC)") == "159"
    assert cell(transactions, 0, "86.?00 posting text") == "RETOURE"
    assert cell(transactions, 0, "86.?34 text key extension") == "914"
    assert cell(transactions, 0, "86.?20-29 remittance") == "EREF+TFNR 40005 00005 MTLG:Grund nicht spezifiziert Reject aus SEPA-Ueberweisungsauftrag"
    # A subfield tag split over two lines ("?2" + "2MTLG") is still found.
    transfer = transactions.line_numbers.index(38)
    assert cell(transactions, transfer, "86.?20-29 remittance").endswith("MTLG:SEPA-Ueberweisungsauftrag Datei mit 0000005 Zahlungen")
    credit = transactions.line_numbers.index(30)
    assert cell(transactions, credit, "86.?31 account") == "DE42100100100043921105"
    assert cell(transactions, credit, "86.?30 bank code") == "PBNKDEFF100"
    assert cell(transactions, credit, "86.EREF+ end-to-end reference") == "EndToEndIdTFNR2000400001"

    # :60F:D070903EUR1234718,36 : the opening balance is a debit balance.
    assert cell(account, 0, "60a.amount (signed)") == "-1234718.36"
    assert cell(account, 0, "25.account") == "50880050/0194774600888"
    # 26 statements with distinct :20: references cover 20 accounts.
    assert account.frame["20.reference"].nunique() == 26
    assert account.frame["25.account"].nunique() == 20


def test_mt942_mbank_values():
    tables = parse_mt(*sample("mt942_mbank/mt942.sta"))
    transactions, account = tables["transaction"], tables["account"]
    # The file starts with an SOH byte on line 1; :61:1701190119CN0,01NTRFNONREF//MB170119012058
    assert cell(transactions, 0, "61.amount (signed)") == "0.01"
    assert cell(transactions, 0, "61.funds code") == "N"
    assert cell(transactions, 0, "61.bank reference") == "MB170119012058"
    assert cell(transactions, 2, "61.amount (signed)") == "0.01"
    assert cell(transactions, 0, "currency") == "PLN"
    assert cell(transactions, 0, "61.supplementary details") == "911-TRANSAKCJA IPH"
    assert "Z RACH.: 56114010810000267002001001" in cell(transactions, 0, "86.details")
    # :34F:PLN0 , :13D:1701191815+0100 , :90D:0PLN0,00 , :90C:3PLN0,03
    assert cell(account, 0, "34F.floor limit") == "0"
    assert cell(account, 0, "13D.date") == "170119"
    assert cell(account, 0, "13D.UTC offset") == "+0100"
    assert cell(account, 0, "90D.number of entries") == "0"
    assert cell(account, 0, "90C.number of entries") == "3"
    assert cell(account, 0, "90C.amount (signed)") == "0.03"
    # The :90C: total equals the sum of the credit lines.
    assert sum(Decimal(a) for a in transactions.frame["61.amount (signed)"]) == Decimal("0.03")


MT_STATEMENT = """{1:F01BANKDEFFAXXX0000000000}{2:O9401200240101BANKDEFFAXXX00000000002401011200N}{4:
:20:REF1
:25:DE00123456780000000001
:28C:7/1
:60F:C231229EUR1000,00
:61:2312290102D22,50NTRFNONREF//B1
:86:Year-end booking
:61:2401021229RD5,NTRFNONREF
:62F:C240102EUR982,50
-}
"""


def test_mt940_fin_blocks_and_year_change():
    tables = parse_mt(MT_STATEMENT.encode("ascii"), "statement.sta")
    transactions = tables["transaction"]
    assert transactions.line_numbers == [6, 8]
    # Value date 29 Dec 2023, booked 2 Jan: the entry date falls in the next year.
    assert cell(transactions, 0, "61.entry date") == "240102"
    assert cell(transactions, 0, "61.amount (signed)") == "-22.50"
    # Value date 2 Jan 2024, booked 29 Dec: the previous year. RD puts money back.
    assert cell(transactions, 1, "61.entry date") == "231229"
    assert cell(transactions, 1, "61.mark") == "RD"
    assert cell(transactions, 1, "61.amount (signed)") == "5"
    assert cell(tables["account"], 0, "62a.amount (signed)") == "982.50"


def test_mt940_cut_off_statement_line():
    text = ":20:REF1\n:25:123456789\n:28C:1/1\n:60F:C240312EUR100,00\n:61:2403120312D\n"
    with pytest.raises(InputFileError) as caught:
        parse_mt(text.encode("ascii"), "cut.sta")
    assert caught.value.path == "cut.sta"
    assert "line 5" in str(caught.value)
    assert "no amount" in str(caught.value)


def test_mt940_without_reference_and_account():
    text = ":28C:1/1\n:60F:C240312EUR100,00\n:61:2403120312D1,00NTRFNONREF\n:62F:C240312EUR99,00\n"
    with pytest.raises(InputFileError) as caught:
        parse_mt(text.encode("ascii"), "headless.sta")
    assert caught.value.path == "headless.sta"
    assert "line 1" in str(caught.value)
    assert ":20:" in str(caught.value)


def test_mt940_statement_without_account():
    text = ":20:REF1\n:28C:1/1\n:60F:C240312EUR100,00\n:61:2403120312D1,00NTRFNONREF\n:62F:C240312EUR99,00\n"
    with pytest.raises(InputFileError) as caught:
        parse_mt(text.encode("ascii"), "noaccount.sta")
    assert "line 1" in str(caught.value)
    assert ":25:" in str(caught.value)


def test_mt940_invalid_balance():
    text = ":20:REF1\n:25:123\n:60F:C2403EUR100,00\n"
    with pytest.raises(InputFileError) as caught:
        parse_mt(text.encode("ascii"), "balance.sta")
    assert "line 3" in str(caught.value)
    assert ":60F:" in str(caught.value)


# --- BAI2 --------------------------------------------------------------------------------


def test_bai2_sample3_records_sharing_lines():
    raw, name = sample("bai2_moov_sample3/sample3.txt")
    tables = parse_bai2(raw, name)
    transactions, accounts = tables["transaction"], tables["account"]
    check_table_shape(transactions)
    check_table_shape(accounts)
    # Lines such as "16,142,2500,Z,,,TRANSFER ... PPD/ 16,142,500,Z,,,..." hold two records,
    # so 13 lines start with 03 and 24 with 16, but the file has 15 accounts and 26
    # transactions. The 98 group trailer "98,2508440,15,72/" states the 15 accounts.
    assert b"98,2508440,15,72/" in raw
    assert len(accounts.frame) == 15
    assert len(transactions.frame) == 26
    assert transactions.line_numbers[:3] == [3, 3, 4]

    # 16,142,2500,Z,,,TRANSFER   PAYPAL             PPD/ : type 142 is a credit.
    assert cell(transactions, 0, "16.amount (signed)") == "25.00"
    assert cell(transactions, 0, "16.mark") == "C"
    assert cell(transactions, 0, "16.text") == "TRANSFER   PAYPAL             PPD"
    assert cell(transactions, 1, "16.amount (signed)") == "5.00"
    # 16,451,2500,Z,,,111111     ACH_SETL ... / 88,       1111111111/ : a debit continued by 88.
    assert cell(transactions, 3, "16.amount (signed)") == "-25.00"
    assert cell(transactions, 3, "16.text").endswith("111111111111111               1111111111")
    assert cell(transactions, 0, "02.as-of date") == "220919"
    assert cell(transactions, 0, "currency") == "USD"
    # The 16 record on line 18 wraps onto line 19 without an 88.
    wrapped = transactions.line_numbers.index(18)
    assert "1111111111 111111111111111" in cell(transactions, wrapped, "16.text")

    # 03,1111111,,010,-3500,,,015,-3600,... : negative summary amounts.
    assert cell(accounts, 0, "03.010 opening ledger") == "-35.00"
    assert cell(accounts, 0, "03.015 closing ledger") == "-36.00"
    assert cell(accounts, 0, "03.100 item count") == "3"
    assert cell(accounts, 0, "49.account control total") == "-16.00"


def test_bai2_continuation_records():
    tables = parse_bai2(*sample("bai2_moov_continuations/sample4-continuations-newline-delimited.txt"))
    transactions, accounts = tables["transaction"], tables["account"]
    check_table_shape(transactions)
    assert len(accounts.frame) == 5
    assert len(transactions.frame) == 17
    # 16,447,60000,,SPB2322984714570,1111,ACH Credit Payment,Entry Description: EXP; -, ...
    assert cell(transactions, 0, "16.type code") == "447"
    assert cell(transactions, 0, "16.amount (signed)") == "-600.00"
    assert cell(transactions, 0, "16.bank reference") == "SPB2322984714570"
    assert cell(transactions, 0, "16.customer reference") == "1111"
    # The text keeps its commas, and the three 88 records after it join with spaces.
    assert cell(transactions, 0, "16.text").startswith("ACH Credit Payment,Entry Description: EXP; -, SEC: CCD")
    assert cell(transactions, 0, "16.text").endswith("EREF: 1111 DBNM: TEST INC CACT: ACHCONTROLOUTUSD01")
    # 16,261,143500,,SB2322600000404,... : type 261 is a credit.
    assert cell(transactions, 1, "16.amount (signed)") == "1435.00"
    assert cell(transactions, 0, "03.customer account number") == "107049932"
    assert cell(transactions, 0, "02.as-of date") == "230906"
    # 03,107049924,USD,,,,,060,13053325440,... : a defaulted first item before 060.
    assert cell(accounts, 0, "03.060 current available") == "130533254.40"
    assert cell(accounts, 2, "03.010 opening ledger") == "1595811.94"


def test_bai2_implied_decimals_follow_currency():
    text = "01,S,R,240101,1200,1,,,2/\n02,R,S,1,240101,1200,JPY,2/\n03,ACC1,,015,150000,,/\n16,195,2500,Z,B1,C1,Wire/\n49,152500,3/\n98,152500,1,5/\n99,152500,1,7/\n"
    tables = parse_bai2(text.encode("ascii"), "yen.bai")
    assert cell(tables["transaction"], 0, "currency") == "JPY"
    assert cell(tables["transaction"], 0, "16.amount (signed)") == "2500"
    assert cell(tables["account"], 0, "03.015 closing ledger") == "150000"


def test_bai2_continuation_without_record():
    text = "88,continued text/\n01,S,R,240101,1200,1,,,2/\n"
    with pytest.raises(InputFileError) as caught:
        parse_bai2(text.encode("ascii"), "orphan.bai")
    assert caught.value.path == "orphan.bai"
    assert "line 1" in str(caught.value)
    assert "88" in str(caught.value)


def test_bai2_transaction_outside_account():
    text = "01,S,R,240101,1200,1,,,2/\n02,R,S,1,240101,1200,USD,2/\n16,195,2500,Z,B1,C1,Wire/\n"
    with pytest.raises(InputFileError) as caught:
        parse_bai2(text.encode("ascii"), "noaccount.bai")
    assert "line 3" in str(caught.value)


# --- NACHA -------------------------------------------------------------------------------


def test_nacha_ppd_and_iat_batches():
    raw, name = sample("nacha_20110805A/20110805A.ach")
    transactions = parse_nacha(raw, name)["transaction"]
    check_table_shape(transactions)
    assert len(transactions.frame) == 48
    # 35 addenda records, 7 for each of the 5 IAT entries.
    assert sum(1 for line in raw.decode("ascii").splitlines() if line.startswith("7")) == 35
    assert (transactions.frame["6.addenda record indicator"] == "1").sum() == 5
    # 627021200025998412345        0000027000A271           JULIAN PRICE            0042000010000001
    assert cell(transactions, 0, "6.transaction code") == "27"
    assert cell(transactions, 0, "6.amount (signed)") == "-270.00"
    assert cell(transactions, 0, "6.receiving DFI identification") == "02120002"
    assert cell(transactions, 0, "6.DFI account number") == "998412345"
    assert cell(transactions, 0, "6.individual identification number") == "A271"
    assert cell(transactions, 0, "6.trace number") == "042000010000001"
    # 5225EXAMPLE COMPANY ... PPDBUY WIDGET110808110808
    assert cell(transactions, 0, "5.effective entry date") == "110808"
    assert cell(transactions, 0, "5.standard entry class code") == "PPD"
    assert cell(transactions, 0, "5.company entry description") == "BUY WIDGET"
    assert transactions.line_numbers[0] == 3
    # 622021200025998412345        0000000008A251 ... : code 22 is a credit.
    first_credit = transactions.line_numbers.index(30)
    assert cell(transactions, first_credit, "6.amount (signed)") == "0.08"
    # 6270910502340007             0000109000998412345 ... in the IAT batch on line 48.
    iat = transactions.line_numbers.index(50)
    assert cell(transactions, iat, "5.standard entry class code") == "IAT"
    assert cell(transactions, iat, "6.amount (signed)") == "-1090.00"
    assert cell(transactions, iat, "5.ISO destination currency code") == "CAD"
    assert cell(transactions, iat, "715.receiver street address") == "PO Box 190"
    assert cell(transactions, iat, "716.receiver country and postal code") == "CA*01234\\"


def test_nacha_iat_file():
    raw, name = sample("nacha_iat/20180713-IAT.ach")
    transactions = parse_nacha(raw, name)["transaction"]
    assert len(transactions.frame) == 2
    assert transactions.line_numbers == [3, 13]
    # 6221210428820007             0000100000231380104 ...
    assert cell(transactions, 0, "6.amount (signed)") == "1000.00"
    # 6271210428820007             0000002000231380104 ...
    assert cell(transactions, 1, "6.amount (signed)") == "-20.00"
    assert cell(transactions, 0, "6.number of addenda records") == "0007"
    assert cell(transactions, 0, "5.effective entry date") == "010101"
    assert cell(transactions, 0, "713.originating DFI name") == "Wells Fargo"
    assert cell(transactions, 0, "714.receiving DFI branch country code") == "US"
    assert cell(transactions, 0, "710.foreign trace number") == "928383-23938"


def test_nacha_return_entries():
    transactions = parse_nacha(*sample("nacha_return_web/return-WEB.ach"))["transaction"]
    assert len(transactions.frame) == 2
    # 626091400606123456789        0000012354MjMxNDAwMjAtOGQPaul Jones            S 1091000017611242
    assert cell(transactions, 0, "6.transaction code") == "26"
    assert cell(transactions, 0, "6.amount (signed)") == "-123.54"
    assert cell(transactions, 0, "799.return reason code") == "R01"
    assert cell(transactions, 0, "799.original entry trace number") == "091400600000001"
    # 621091400606867530999999     0000004565NmRjZTJmMzItMGN... and 799R03...
    assert cell(transactions, 1, "6.amount (signed)") == "45.65"
    assert cell(transactions, 1, "799.return reason code") == "R03"
    assert cell(transactions, 0, "5.company name") == "CoinLion"
    assert cell(transactions, 0, "5.effective entry date") == "000101"


def small_ach(entry: str, control: str) -> str:
    """Return a one-batch PPD file around `entry` and its batch `control` record."""
    header = "101 091400606 6910001341810170306A094101" + "DEST BANK".ljust(23) + "ORIGIN NAME".ljust(23) + " " * 8
    batch = "5200" + "COMPANY".ljust(16) + " " * 20 + "1234567890" + "PPD" + "PAYROLL".ljust(10) + " " * 6 + "240102" + "   " + "1" + "09100001" + "0000001"
    file_control = "9" + "000001" + "000001" + "00000001" + "0009140060" + "0" * 12 + "000000012354" + " " * 39
    return "\n".join([header, batch, entry, control, file_control]) + "\n"


# A $123.54 credit (code 22) and the batch control that matches it.
ENTRY = "6" + "22" + "09140060" + "6" + "123456789".ljust(17) + "0000012354" + "ID123".ljust(15) + "JANE ROE".ljust(22) + "  " + "0" + "091000010000001"
CONTROL = "8" + "200" + "000001" + "0009140060" + "0" * 12 + "000000012354" + "1234567890" + " " * 25 + "09100001" + "0000001"


def test_nacha_small_file_reads():
    text = small_ach(ENTRY, CONTROL)
    assert all(len(line) == 94 for line in text.splitlines())
    transactions = parse_nacha(text.encode("ascii"), "small.ach")["transaction"]
    assert cell(transactions, 0, "6.amount (signed)") == "123.54"
    assert cell(transactions, 0, "6.individual name") == "JANE ROE"
    assert transactions.line_numbers == [3]


def test_nacha_short_record():
    text = small_ach(ENTRY[:93], CONTROL)
    with pytest.raises(InputFileError) as caught:
        parse_nacha(text.encode("ascii"), "short.ach")
    assert caught.value.path == "short.ach"
    assert "line 3" in str(caught.value)
    assert "93 characters" in str(caught.value)


def test_nacha_batch_total_mismatch():
    wrong_total = CONTROL.replace("000000012354", "000000012355")
    text = small_ach(ENTRY, wrong_total)
    with pytest.raises(InputFileError) as caught:
        parse_nacha(text.encode("ascii"), "edited.ach")
    assert "line 4" in str(caught.value)
    assert "total credits" in str(caught.value)


def test_nacha_cut_off_file():
    text = "\n".join(small_ach(ENTRY, CONTROL).splitlines()[:3]) + "\n"
    with pytest.raises(InputFileError) as caught:
        parse_nacha(text.encode("ascii"), "cut.ach")
    assert "line 2" in str(caught.value)
    assert "batch control" in str(caught.value)
