"""Tests for onboard.reader.read_table: layouts real bank exports have, and inputs it must reject."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from onboard.errors import InputFileError
from onboard.reader import read_table

REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"


def missing_sample(folder: str) -> str:
    return f"real sample folder not found: {REALDATA / folder}"


def write_text(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


# Delimiters and encodings


@pytest.mark.parametrize("delimiter", [";", ",", "\t", "|"], ids=["semicolon", "comma", "tab", "pipe"])
def test_delimiter_detected(tmp_path, delimiter):
    lines = [
        ["Datum", "Betrag", "Text"],
        ["01.02.2020", "1.5", "Miete"],
        ["02.02.2020", "2.5", "Kaffee"],
    ]
    path = write_text(tmp_path / "export.csv", "\n".join(delimiter.join(row) for row in lines) + "\n")

    table = read_table(path)

    assert table.source.delimiter == delimiter
    assert list(table.frame.columns) == ["Datum", "Betrag", "Text"]
    assert table.frame.values.tolist() == lines[1:]


def test_delimiter_semicolon_with_commas(tmp_path):
    text = "Datum;Betrag;Text\n01.01.2020;1,50;Kauf, Laden, Berlin\n02.01.2020;2,50;Miete, Januar\n"
    path = write_text(tmp_path / "export.csv", text)

    table = read_table(path)

    assert table.source.delimiter == ";"
    assert table.frame["Text"].tolist() == ["Kauf, Laden, Berlin", "Miete, Januar"]


def test_encoding_cp1252(tmp_path):
    text = "Name;Währung;Text\nMüller;EUR;5 € Gebühr\nJosé;CHF;Zürich\n"
    path = write_text(tmp_path / "export.csv", text, "cp1252")

    table = read_table(path)

    assert table.source.encoding == "cp1252"
    assert list(table.frame.columns) == ["Name", "Währung", "Text"]
    assert table.frame["Text"].tolist() == ["5 € Gebühr", "Zürich"]


def test_encoding_latin1_fallback(tmp_path):
    # 0x81 has no character in cp1252, so only latin-1 decodes the file.
    path = tmp_path / "export.csv"
    path.write_bytes(b"Name;Ort\nM\xfcller;K\xf6ln\nA\x81;B\n")

    table = read_table(path)

    assert table.source.encoding == "latin-1"
    assert table.frame["Ort"].tolist() == ["Köln", "B"]


def test_encoding_utf8_bom(tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes(b"\xef\xbb\xbf" + "Név;Összeg\nÁrvíztűrő;100\nB;200\n".encode("utf-8"))

    table = read_table(path)

    assert table.source.encoding == "utf-8-sig"
    assert list(table.frame.columns) == ["Név", "Összeg"]
    assert table.frame["Név"].tolist() == ["Árvíztűrő", "B"]


# Header detection

PREAMBLE_LINES = "KNAB EXPORT\nIBAN;NL12KNAB0123456789\nPeriode;01-01-2020 t/m 31-01-2020\n\n"


def test_preamble_five_columns(tmp_path):
    text = PREAMBLE_LINES + (
        "Datum;Bedrag;Valuta;Omschrijving;Tegenrekening\n"
        "01-01-2020;827,75;EUR;Huur;NL01\n"
        "02-01-2020;2500;EUR;Salaris;NL02\n"
    )
    path = write_text(tmp_path / "knab.csv", text)

    table = read_table(path)

    assert list(table.frame.columns) == ["Datum", "Bedrag", "Valuta", "Omschrijving", "Tegenrekening"]
    assert table.source.header_row == 4
    assert table.source.preamble == {"IBAN": "NL12KNAB0123456789", "Periode": "01-01-2020 t/m 31-01-2020"}
    assert table.line_numbers == [6, 7]
    assert table.bad_rows == []


def test_preamble_three_columns(tmp_path):
    text = PREAMBLE_LINES + "Datum;Bedrag;Omschrijving\n01-01-2020;827,75;Huur\n02-01-2020;2500;Salaris\n"
    path = write_text(tmp_path / "knab.csv", text)

    table = read_table(path)

    assert list(table.frame.columns) == ["Datum", "Bedrag", "Omschrijving"]
    assert table.source.preamble == {"IBAN": "NL12KNAB0123456789", "Periode": "01-01-2020 t/m 31-01-2020"}
    assert table.bad_rows == []


def test_no_header_row(tmp_path):
    text = "01-01-2020;827,75;Huur\n02-01-2020;2500;Salaris\n03-01-2020;1,00;Rente\n"
    path = write_text(tmp_path / "asn.csv", text)

    table = read_table(path)

    assert list(table.frame.columns) == ["column_1", "column_2", "column_3"]
    assert table.source.header_row is None
    assert table.line_numbers == [1, 2, 3]
    assert table.frame["column_2"].tolist() == ["827,75", "2500", "1,00"]


def test_duplicate_header_names(tmp_path):
    text = "Betrag;Währung;Saldo;Währung\n-5,50;EUR;150,00;EUR\n50,00;EUR;200,00;EUR\n"
    path = write_text(tmp_path / "ing.csv", text)

    table = read_table(path)

    assert list(table.frame.columns) == ["Betrag", "Währung", "Saldo", "Währung_2"]


def test_duplicate_header_suffix_taken(tmp_path):
    path = write_text(tmp_path / "export.csv", "Name;Name_2;Name\na;b;c\nd;e;f\n")

    table = read_table(path)

    assert len(set(table.frame.columns)) == 3


def test_trailing_delimiter_dropped(tmp_path):
    path = write_text(tmp_path / "export.csv", "Name;Amount;\nAnna;1;\nBert;2;\n")

    table = read_table(path)

    assert list(table.frame.columns) == ["Name", "Amount"]
    assert table.source.columns == ["Name", "Amount"]


# Rows that do not fit the header


def test_extra_fields_recorded(tmp_path):
    path = write_text(tmp_path / "export.csv", "Name;Amount\nAnna;1\nBert;2;oops\nCarl;3\n")

    table = read_table(path)

    assert table.frame["Name"].tolist() == ["Anna", "Carl"]
    assert table.line_numbers == [2, 4]
    assert table.bad_rows == [{"line": 3, "reason": "3 fields where the header has 2"}]
    assert table.data_rows == 3


def test_extra_fields_after_preamble(tmp_path):
    text = PREAMBLE_LINES + (
        "Datum;Bedrag;Valuta;Omschrijving;Saldo\n"
        "01-01-2020;1,00;EUR;a;5,00\n"
        "02-01-2020;2,00;EUR;b;7,00;extra\n"
        "03-01-2020;3,00;EUR;c;10,00\n"
    )
    path = write_text(tmp_path / "export.csv", text)

    table = read_table(path)

    assert [row["line"] for row in table.bad_rows] == [7]
    assert table.line_numbers == [6, 8]


def test_empty_extra_fields_kept(tmp_path):
    path = write_text(tmp_path / "export.csv", "Name;Amount\nAnna;1;;\nBert;2\n")

    table = read_table(path)

    assert table.frame.values.tolist() == [["Anna", "1"], ["Bert", "2"]]
    assert table.bad_rows == []


def test_bad_row_line_after_newline_cell(tmp_path):
    text = 'Datum;Betrag;Text\n01.01.2020;1,00;"zwei\nZeilen"\n02.01.2020;2,00;b;extra\n03.01.2020;3,00;c\n'
    path = write_text(tmp_path / "export.csv", text)

    table = read_table(path)

    assert table.bad_rows[0]["line"] == 4
    assert table.line_numbers == [2, 5]


# Spreadsheets and JSON


def save_workbook(path: Path, rows: list[list]) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Umsaetze"
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def test_xlsx_title_rows(tmp_path):
    path = save_workbook(tmp_path / "statement.xlsx", [
        ["Kontoauszug Girokonto"],
        ["Erstellt am 02.01.2024"],
        [],
        ["Datum", "Betrag", "Text", "Saldo"],
        [dt.date(2024, 1, 2), 1500.5, "Miete", 100],
        [dt.datetime(2024, 1, 3, 10, 30), -20.25, "Kaffee", 0.1],
    ])

    table = read_table(path)

    assert table.source.kind == "xlsx"
    assert table.source.sheet == "Umsaetze"
    assert table.source.header_row == 3
    assert list(table.frame.columns) == ["Datum", "Betrag", "Text", "Saldo"]
    assert table.frame["Datum"].tolist() == ["2024-01-02", "2024-01-03 10:30:00"]
    assert table.frame["Betrag"].tolist() == ["1500.5", "-20.25"]
    assert table.frame["Saldo"].tolist() == ["100", "0.1"]
    assert table.line_numbers == [5, 6]


def test_xlsx_key_value_row(tmp_path):
    path = save_workbook(tmp_path / "statement.xlsx", [
        ["Kontoauszug"],
        ["Konto", "DE89370400440532013000"],
        [],
        ["Datum", "Betrag", "Text", "Saldo"],
        [dt.date(2024, 1, 2), 1500.5, "Miete", 100],
        [dt.date(2024, 1, 3), -20.25, "Kaffee", 0.1],
    ])

    table = read_table(path)

    assert list(table.frame.columns) == ["Datum", "Betrag", "Text", "Saldo"]
    assert table.source.preamble == {"Konto": "DE89370400440532013000"}


def test_json_nested_records(tmp_path):
    text = (
        '[{"id": 1, "amount": 1500.10, "owner": {"name": "Anna", "address": {"city": "Brno"}}},'
        ' {"id": 2, "amount": 0.1, "owner": {"name": "Bert", "address": {"city": "Gent"}}},'
        ' {"id": 10000000000000000000001, "amount": 12345678901234567890.123456789,'
        ' "owner": {"name": "Carl", "address": {"city": "Lyon"}}}]'
    )
    path = write_text(tmp_path / "clients.json", text)

    table = read_table(path)

    assert table.source.kind == "json"
    assert list(table.frame.columns) == ["id", "amount", "owner.name", "owner.address.city"]
    assert table.frame["amount"].tolist() == ["1500.10", "0.1", "12345678901234567890.123456789"]
    assert table.frame["id"].tolist() == ["1", "2", "10000000000000000000001"]
    assert table.frame["owner.address.city"].tolist() == ["Brno", "Gent", "Lyon"]


def test_json_records_under_key(tmp_path):
    text = '{"meta": {"count": 2}, "data": {"rows": [{"iban": "CZ65", "amount": "1.10"}, {"iban": "CZ66", "amount": "2.20"}]}}'
    path = write_text(tmp_path / "export.json", text)

    table = read_table(path)

    assert table.source.record_path == "data.rows"
    assert table.frame["amount"].tolist() == ["1.10", "2.20"]


def test_csv_bracketed_header(tmp_path):
    path = write_text(tmp_path / "export.csv", "[Datum];[Betrag]\n01.01.2020;1,50\n02.01.2020;2,50\n")

    table = read_table(path)

    assert list(table.frame.columns) == ["[Datum]", "[Betrag]"]


# Inputs that must raise InputFileError


def make_missing(tmp_path: Path) -> Path:
    return tmp_path / "missing.csv"


def make_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "exports.csv"
    folder.mkdir()
    return folder


def make_empty(tmp_path: Path) -> Path:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    return path


def make_whitespace(tmp_path: Path) -> Path:
    path = tmp_path / "blank.csv"
    path.write_bytes(b"  \r\n\t\n   \n")
    return path


def make_header_only(tmp_path: Path) -> Path:
    return write_text(tmp_path / "header.csv", "Datum;Betrag;Text\n")


def make_binary_with_nul(tmp_path: Path) -> Path:
    garbage = bytearray(os.urandom(4096))
    garbage[0] = 0
    garbage[100::400] = bytes(len(garbage[100::400]))
    path = tmp_path / "garbage.csv"
    path.write_bytes(bytes(garbage))
    return path


def make_binary_without_nul(tmp_path: Path) -> Path:
    garbage = bytes(b or 1 for b in os.urandom(4096))
    path = tmp_path / "noise.csv"
    path.write_bytes(garbage)
    return path


def make_invalid_json(tmp_path: Path) -> Path:
    return write_text(tmp_path / "broken.json", '[{"id": 1, "amount": "1.00"},')


def make_json_without_records(tmp_path: Path) -> Path:
    return write_text(tmp_path / "scalars.json", "[1, 2, 3]")


def make_fake_xlsx(tmp_path: Path) -> Path:
    return write_text(tmp_path / "statement.xlsx", "Datum;Betrag\n01.01.2020;1,00\n")


BAD_INPUTS = {
    "missing": (make_missing, "not found"),
    "folder": (make_folder, "folder"),
    "empty": (make_empty, "empty"),
    "whitespace": (make_whitespace, "empty"),
    "header_only": (make_header_only, "no data rows"),
    "binary_nul": (make_binary_with_nul, "NUL bytes"),
    "binary_noise": (make_binary_without_nul, "not readable text"),
    "invalid_json": (make_invalid_json, "not valid JSON"),
    "json_no_records": (make_json_without_records, "no list of records"),
    "fake_xlsx": (make_fake_xlsx, "not a readable .xlsx"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_rejected(tmp_path, case):
    make, problem = BAD_INPUTS[case]
    path = make(tmp_path)

    with pytest.raises(InputFileError) as raised:
        read_table(path)

    message = str(raised.value)
    assert path.name in message
    assert problem in raised.value.problem
    assert raised.value.action.strip()
    assert message.endswith(raised.value.action)


def test_bad_input_display_name(tmp_path):
    path = make_empty(tmp_path)

    with pytest.raises(InputFileError) as raised:
        read_table(path, display_name="client-upload.csv")

    assert str(raised.value).startswith("client-upload.csv: ")


def test_invalid_json_names_position(tmp_path):
    path = make_invalid_json(tmp_path)

    with pytest.raises(InputFileError, match=r"line 1, column \d+"):
        read_table(path)


# The command line on bad input


def onboard_command() -> list[str]:
    script = Path(sys.executable).with_name("onboard")
    if script.exists():
        return [str(script)]
    found = shutil.which("onboard")
    if found is None:
        pytest.skip("the onboard command is not installed in this environment")
    return [found]


def run_cli(tmp_path: Path, file_argument: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if not key.startswith("ONBOARD_")}
    env["ONBOARD_HOME"] = str(tmp_path / "home")
    return subprocess.run(
        onboard_command() + ["run", file_argument, "--json"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize("case", ["empty", "missing"])
def test_cli_bad_file_exit_2(tmp_path, case):
    if case == "empty":
        make_empty(tmp_path)
    name = f"{case}.csv"

    completed = run_cli(tmp_path, name)

    stderr_lines = completed.stderr.strip().splitlines()
    assert completed.returncode == 2
    assert len(stderr_lines) == 1
    assert name in stderr_lines[0]
    assert "Traceback" not in completed.stderr
    assert "Traceback" not in completed.stdout


# Real exports

REAL_CASES = {
    "csv_de_ing": ("test_with_saldo_2.csv", ["Buchung", "Wertstellungsdatum"], "IBAN"),
    "csv_nl_knab": ("Knab_transactieoverzicht_ok.csv", ["Rekeningnummer", "Transactiedatum"], None),
    "csv_at_ing-diba": ("ing-diba.csv", ["Kontonummer", "Text", "Datum", "Währung", "Soll", "Haben"], None),
    "csv_es_csb43": ("csb43.csv", ["bank_code", "branch_code"], None),
}


@pytest.mark.parametrize("folder", list(REAL_CASES))
def test_real_export_header(folder):
    file_name, first_columns, preamble_key = REAL_CASES[folder]
    path = REALDATA / folder / file_name
    if not path.is_file():
        pytest.skip(f"real sample not found: {path}")

    table = read_table(path)

    assert list(table.frame.columns)[: len(first_columns)] == first_columns
    assert table.bad_rows == []
    if preamble_key:
        assert preamble_key in table.source.preamble


@pytest.mark.skipif(not (REALDATA / "csv_es_csb43").is_dir(), reason=missing_sample("csv_es_csb43"))
def test_real_duplicate_column():
    table = read_table(REALDATA / "csv_es_csb43" / "csb43.csv")

    assert "branch_code_2" in table.frame.columns


@pytest.mark.skipif(not (REALDATA / "csv_nl_asn_noheader").is_dir(), reason=missing_sample("csv_nl_asn_noheader"))
def test_real_no_header():
    path = next((REALDATA / "csv_nl_asn_noheader").glob("*.csv"))

    table = read_table(path)

    assert table.source.header_row is None
    assert table.frame.columns[0] == "column_1"
    assert table.line_numbers[0] == 1
