"""Broken and hostile files: each fails with a specific error naming the file, and loads nothing."""

from __future__ import annotations

import csv
import json
import sqlite3
import zipfile

import pytest

from conftest import onboard_cli
from onboard.errors import InputFileError
from onboard.exports import escape_formula
from onboard.reader import MAX_LINE_BYTES, read_table


def _error(path) -> str:
    with pytest.raises(InputFileError) as caught:
        read_table(path)
    message = str(caught.value)
    assert str(path) in message
    return message


def test_invalid_utf8_after_bom(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbfDatum;Betrag\n01.02.2024;\xff\xfe12\n")
    message = _error(path)
    assert "not valid UTF-8" in message
    assert "line 2" in message


def test_single_huge_line(tmp_path):
    path = tmp_path / "huge.csv"
    with path.open("wb") as handle:
        handle.write(b"Datum;Betrag\n")
        handle.write(b"A" * (300 << 20))
        handle.write(b"\n")
    message = _error(path)
    assert "line 2" in message
    assert f"{MAX_LINE_BYTES:,}" in message


def test_xlsx_zip_bomb(tmp_path):
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"0" * (64 << 20))
    message = _error(path)
    assert "zip bomb" in message
    assert "sheet1.xml" in message


def test_xlsx_not_a_zip(tmp_path):
    path = tmp_path / "fake.xlsx"
    path.write_bytes(b"PK\x03\x04 this is not really a zip archive")
    assert "not a zip archive" in _error(path) or "not a readable .xlsx" in _error(path)


def test_xlsx_with_entity_expansion(tmp_path):
    """A workbook whose sheet XML defines entities is refused by the XML parser, not expanded."""
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.active.append(["Datum", "Betrag"])
    workbook.active.append(["2024-01-02", "1.00"])
    clean = tmp_path / "clean.xlsx"
    workbook.save(clean)
    hostile = tmp_path / "laughs.xlsx"
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        '<row r="1"><c r="A1" t="inlineStr"><is><t>&lol3;</t></is></c></row></sheetData></worksheet>'
    )
    with zipfile.ZipFile(clean) as source, zipfile.ZipFile(hostile, "w") as target:
        for item in source.infolist():
            data = laughs.encode() if item.filename == "xl/worksheets/sheet1.xml" else source.read(item.filename)
            target.writestr(item, data)
    assert "not a readable .xlsx" in _error(hostile)


def test_json_depth_bomb(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text("[" * 200_000 + "]" * 200_000)
    assert "too deeply" in _error(path)


def test_json_nested_too_deep(tmp_path):
    path = tmp_path / "nested.json"
    path.write_text('[{"a": ' + "[" * 100 + "1" + "]" * 100 + "}]")
    assert "levels deep" in _error(path)


def test_binary_with_csv_name(tmp_path):
    path = tmp_path / "garbage.csv"
    path.write_bytes(bytes(range(256)) * 64)
    assert "binary" in _error(path) or "not readable text" in _error(path)


@pytest.mark.parametrize("name,content", [
    ("empty.csv", b""),
    ("header_only.csv", b"Datum;Betrag;Text\n"),
    ("whitespace.csv", b"  \n\n\t\n"),
])
def test_empty_files_load_nothing(home, name, content):
    path = home.parent / name
    path.write_bytes(content)
    completed = onboard_cli(["run", str(path), "--json"], home)
    assert completed.returncode == 2
    assert name in completed.stderr
    assert "Traceback" not in completed.stderr
    database = home / "core_banking.sqlite"
    if database.exists():
        with sqlite3.connect(database) as connection:
            assert connection.execute("SELECT COUNT(*) FROM transactions").fetchone()[0] == 0


def test_formula_cells_stay_text(home):
    """Cells that a spreadsheet would run as formulas are stored as text and exported escaped."""
    path = home.parent / "formulas.csv"
    path.write_text(
        "Txn ID;Booking date;Amount;Currency;Account;Details\n"
        'T1;02.01.2024;10,00;EUR;DE001;=HYPERLINK("http://127.0.0.1/x","click")\n'
        "T2;03.01.2024;-5,00;EUR;DE001;@SUM(A1:A9)\n"
        "T3;04.01.2024;7,50;EUR;DE001;+cmd|' /C calc'!A0\n"
        "T4;31.02.2024;1,00;EUR;DE001;-2+3\n",
        encoding="utf-8",
    )
    waiting = json.loads(onboard_cli(["run", str(path), "--json"], home).stdout)
    done = json.loads(onboard_cli(["approve", waiting["thread_id"], "--by", "Tester", "--json"], home).stdout)
    assert done["rows_loaded"] == 3
    with sqlite3.connect(home / "core_banking.sqlite") as connection:
        details = dict(connection.execute("SELECT transaction_id, description FROM transactions").fetchall())
    assert details["T1"] == '=HYPERLINK("http://127.0.0.1/x","click")'
    assert details["T2"] == "@SUM(A1:A9)"

    export = home.parent / "rejected.csv"
    completed = onboard_cli(["rejected", waiting["thread_id"], "--csv", str(export)], home)
    assert completed.returncode == 0, completed.stderr
    with export.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[1][0] == "5"
    assert not any(cell.startswith(("=", "+", "@")) for row in rows for cell in row)


@pytest.mark.parametrize("cell,expected", [
    ("=1+1", "'=1+1"),
    ("+cmd", "'+cmd"),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("-2+3", "'-2+3"),
    ("-12.50", "-12.50"),
    ("plain", "plain"),
])
def test_escape_formula(cell, expected):
    assert escape_formula(cell) == expected
