"""Case writer, value formats, names and header words shared by the case builders.

A case builder describes a file as columns over generated records. A record is a dict of
canonical values (datetime.date, decimal.Decimal, ISO codes, E.164 phone numbers, compact
IBANs) keyed by target field name, plus extra keys for distractor columns. Each column
renders one record key in the client's format, so expected.csv is written from the canonical
values and never parsed back from the file.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import random
import re
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Callable

import openpyxl
import phonenumbers
import yaml

from onboard.schema import load_schema

# Fixed stamps, because openpyxl and zipfile otherwise store the current time in a workbook.
ZIP_TIME = (2024, 1, 1, 0, 0, 0)
XLSX_STAMP = b"2024-01-01T00:00:00Z"
_JSON_NUMBER = "@@number@@"


@dataclass
class Column:
    """One column of a generated file: its header, how a record fills it, the target it feeds."""

    header: str
    render: Callable[[dict], object]
    target: str | None = None


def gold(header: str, key: str, fmt: Callable | None = None, target: str | None = None) -> Column:
    """Return a column filled from record[key] by `fmt` that feeds `target` (default: key)."""
    return Column(header, _renderer(key, fmt), target or key)


def other(header: str, key: str, fmt: Callable | None = None) -> Column:
    """Return a column that no target field should take: extra data or a distractor."""
    return Column(header, _renderer(key, fmt))


def _renderer(key: str, fmt: Callable | None) -> Callable[[dict], object]:
    def render(record: dict):
        value = record.get(key)
        if value is None or value == "":
            return None
        return fmt(value) if fmt else value

    return render


@dataclass
class CaseSpec:
    """One eval case: the file layout, its columns and the generator of its records."""

    name: str
    entity: str
    language: str
    note: str
    input_name: str
    columns: list[Column]
    records: Callable[[random.Random, int], list[dict]]
    kind: str = "csv"  # csv, xlsx or json
    delimiter: str = ","
    encoding: str = "utf-8"  # a Python codec name; utf-8-sig writes the BOM
    quote_all: bool = False
    line_end: str = "\r\n"
    header: bool = True
    trailing_delimiter: bool = False
    # Lines above the header (rows of cells) for csv and xlsx; the document around the
    # record list for JSON. Called with the records, so a period line can quote their dates.
    preamble: Callable[[list[dict]], object] | None = None
    json_path: tuple[str, ...] = ("records",)
    xlsx_date_format: str = "DD.MM.YYYY"
    also_accept: dict[str, list[list[str]]] = field(default_factory=dict)
    second_input: str | None = None
    rows: tuple[int, int] = (12, 30)


def source_names(spec: CaseSpec) -> list[str]:
    """Return the column names the product's reader gives the file's columns."""
    if spec.header:
        return [column.header for column in spec.columns]
    return [f"column_{position}" for position in range(1, len(spec.columns) + 1)]


def canonical(value) -> str:
    """Return a record value as expected.csv writes it."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value.quantize(Decimal('0.01')):f}"
    return str(value).strip()


def write_case(spec: CaseSpec, out_root: Path, seed: int) -> Path:
    """Write the case folder `out_root/spec.name`: input file(s), expected.csv and case.yaml."""
    # A string seed is hashed with SHA-512, so each case's data depends only on seed and name.
    rng = random.Random(f"{seed}:{spec.name}")
    fields = list(load_schema().entity(spec.entity).fields)
    names = source_names(spec)
    document = _case_document(spec, names, fields)
    records = spec.records(rng, rng.randint(*spec.rows))
    _check_records(spec, records)

    folder = out_root / spec.name
    folder.mkdir(parents=True)
    (folder / spec.input_name).write_bytes(_input_bytes(spec, records))
    targets = list(document["mapping"])
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(targets)
    writer.writerows([canonical(record.get(target)) for target in targets] for record in records)
    (folder / "expected.csv").write_bytes(buffer.getvalue().encode("utf-8"))

    if spec.second_input:
        more = spec.records(rng, rng.randint(8, 20))
        _check_records(spec, more)
        (folder / spec.second_input).write_bytes(_input_bytes(spec, more))
    text = yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=1000)
    (folder / "case.yaml").write_bytes(text.encode("utf-8"))
    return folder


def _case_document(spec: CaseSpec, names: list[str], fields: list[str]) -> dict:
    mapping: dict[str, list[str]] = {}
    for column, name in zip(spec.columns, names):
        if column.target:
            mapping.setdefault(column.target, []).append(name)
    unknown = [t for t in [*mapping, *spec.also_accept] if t not in fields]
    if unknown:
        raise ValueError(f"case {spec.name}: {unknown} are not {spec.entity} fields of the target schema")
    if len(set(names)) != len(names):
        raise ValueError(f"case {spec.name}: duplicate column names {names}")
    for target, answers in spec.also_accept.items():
        missing = [c for answer in answers for c in answer if c not in names]
        if missing:
            raise ValueError(f"case {spec.name}: also_accept.{target} names missing columns {missing}")
    document: dict = {"input": spec.input_name, "entity": spec.entity}
    document["mapping"] = {target: mapping[target] for target in fields if target in mapping}
    if spec.also_accept:
        document["also_accept"] = spec.also_accept
    document["expected_output"] = "expected.csv"
    if spec.second_input:
        document["second_input"] = spec.second_input
    document["note"] = spec.note
    return document


def _check_records(spec: CaseSpec, records: list[dict]) -> None:
    """Raise ValueError when a gold column is empty in every row or a phone cell misparses."""
    for column in spec.columns:
        cells = [column.render(record) for record in records]
        if column.target and all(cell in (None, "") for cell in cells):
            raise ValueError(f"case {spec.name}: gold column {column.header!r} is empty in every row")
        if column.target != "phone":
            continue
        for record, cell in zip(records, cells):
            if cell in (None, ""):
                continue
            # The gold phone is the cell parsed with the row's residence country as region.
            number = phonenumbers.parse(str(cell), record.get("country"))
            if phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) != record["phone"]:
                raise ValueError(f"case {spec.name}: phone {cell!r} does not parse to {record['phone']}")


def _input_bytes(spec: CaseSpec, records: list[dict]) -> bytes:
    header = [column.header for column in spec.columns] if spec.header else None
    rows = [[column.render(record) for column in spec.columns] for record in records]
    preamble = spec.preamble(records) if spec.preamble else None
    if spec.kind == "xlsx":
        return _xlsx_bytes(spec, preamble or [], header, rows)
    if spec.kind == "json":
        return _json_bytes(spec, preamble or {}, header or [], rows)
    return _csv_bytes(spec, preamble or [], header, rows)


def _text_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)


def _csv_bytes(spec: CaseSpec, preamble: list[list[str]], header: list[str] | None, rows: list[list]) -> bytes:
    buffer = io.StringIO()
    quoting = csv.QUOTE_ALL if spec.quote_all else csv.QUOTE_MINIMAL
    writer = csv.writer(buffer, delimiter=spec.delimiter, lineterminator=spec.line_end, quoting=quoting)
    tail = [""] if spec.trailing_delimiter else []
    writer.writerows(preamble)
    if header:
        writer.writerow(header + tail)
    writer.writerows([_text_cell(cell) for cell in row] + tail for row in rows)
    # Strict encoding: a character the code page lacks is a builder error, not a "?" in the file.
    return buffer.getvalue().encode(spec.encoding)


def _xlsx_bytes(spec: CaseSpec, preamble: list[list], header: list[str] | None, rows: list[list]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = spec.name[:31]
    for line in preamble:
        sheet.append(line)
    if header:
        sheet.append(header)
    for row in rows:
        sheet.append([None if cell == "" else cell for cell in row])
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, (dt.date, dt.datetime)):
                cell.number_format = spec.xlsx_date_format
            elif isinstance(cell.value, Decimal):
                cell.number_format = "#,##0.00"
    buffer = io.BytesIO()
    book.save(buffer)
    return _fixed_zip(buffer.getvalue())


def _fixed_zip(data: bytes) -> bytes:
    """Rewrite a workbook with fixed member times and document dates, so reruns match."""
    source = zipfile.ZipFile(io.BytesIO(data))
    target_buffer = io.BytesIO()
    with zipfile.ZipFile(target_buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>" + XLSX_STAMP, content)
            target.writestr(zipfile.ZipInfo(info.filename, date_time=ZIP_TIME), content, zipfile.ZIP_DEFLATED)
    return target_buffer.getvalue()


def _json_bytes(spec: CaseSpec, document: dict, header: list[str], rows: list[list]) -> bytes:
    items = []
    for row in rows:
        item: dict = {}
        for name, cell in zip(header, row):
            if cell in (None, ""):
                continue  # a missing key, as APIs leave out empty fields
            *parents, leaf = name.split(".")
            node = item
            for key in parents:
                node = node.setdefault(key, {})
            node[leaf] = f"{_JSON_NUMBER}{cell}" if isinstance(cell, Decimal) else cell
        items.append(item)
    node = document = dict(document)
    for key in spec.json_path[:-1]:
        node = node.setdefault(key, {})
    node[spec.json_path[-1]] = items
    text = json.dumps(document, ensure_ascii=False, indent=2, default=_text_cell)
    # Decimals become JSON numbers with their exact digits, never a binary float.
    text = re.sub(f'"{_JSON_NUMBER}(-?[0-9.]+)"', r"\1", text)
    return (text + "\n").encode(spec.encoding)
