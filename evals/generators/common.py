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
import unicodedata
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Callable

import openpyxl
import phonenumbers
import yaml
from schwifty import IBAN

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
    # Rows of cells above the header for csv and xlsx, or the document around the record
    # list for JSON. It is called with the records, so a period line can quote their dates.
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
    # random.seed converts a string with SHA-512, not hash(), so PYTHONHASHSEED has no effect
    # and each case's data depends only on the seed and the case name.
    rng = random.Random(f"{seed}:{spec.name}")
    fields = list(load_schema().entity(spec.entity).fields)
    names = source_names(spec)
    document = _case_document(spec, names, fields)
    records = spec.records(rng, rng.randint(*spec.rows))
    _check_records(spec, records)
    more = spec.records(rng, rng.randint(8, 20)) if spec.second_input else []
    _check_records(spec, more)

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
        (folder / spec.second_input).write_bytes(_input_bytes(spec, more))
    text = yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=1000, default_flow_style=None)
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
        if records and column.target and all(cell in (None, "") for cell in cells):
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


# Values ------------------------------------------------------------------------------------

MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
YYMMDD, YYYYMMDD, ISO, ISO_TIMESTAMP = "%y%m%d", "%Y%m%d", "%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"
DMY_DOT2, DMY_DOT, DMY_DASH, DMY_SLASH = "%d.%m.%y", "%d.%m.%Y", "%d-%m-%Y", "%d/%m/%Y"
MDY_SLASH, DAY_MONTH_YEAR = "%m/%d/%Y", "%d %b %Y"


def date_text(pattern: str) -> Callable[[dt.date], str]:
    """Return a strftime formatter whose %b is the English month abbreviation under any locale."""
    return lambda value: value.strftime(pattern.replace("%b", MONTHS[value.month - 1]))


def random_date(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    return start + dt.timedelta(days=rng.randint(0, (end - start).days))


def prove_day_order(records: list[dict], key: str) -> None:
    """Move the first date under `key` to a day above 12 unless one is there already.

    Without such a day a file cannot show whether its dates are day-first or month-first.
    """
    dated = [record for record in records if record.get(key)]
    if dated and not any(record[key].day > 12 for record in dated):
        dated[0][key] = dated[0][key].replace(day=13 + dated[0][key].day % 15)


def cents(rng: random.Random, low: int, high: int) -> Decimal:
    """Return a random amount between `low` and `high` with two decimals."""
    return Decimal(rng.randint(low * 100, high * 100)).scaleb(-2)


def money(decimal=".", group="", negative="-", prefix="", suffix="", plus=False, unsigned=False) -> Callable:
    """Return a formatter of Decimal amounts in one bank's style.

    `negative` is "-" (a leading minus, before any currency prefix), "trailing" ("100,00-")
    or "()" ("(100.00)"). `unsigned` writes the absolute value, for debit/credit column pairs
    and for amounts next to a sign indicator column. `plus` writes "+" before credits.
    """

    def render(value: Decimal) -> str:
        whole, fraction = f"{abs(value).quantize(Decimal('0.01')):f}".split(".")
        if group:
            whole = f"{int(whole):,}".replace(",", group)
        text = f"{prefix}{whole}{decimal}{fraction}{suffix}"
        if unsigned or value >= 0:
            return f"+{text}" if plus and value > 0 and not unsigned else text
        if negative == "trailing":
            return f"{text}-"
        if negative == "()":
            return f"({text})"
        return f"-{text}"

    return render


def debit_part(fmt: Callable) -> Callable:
    """Return a formatter for a debit column: the amount when it is negative, else empty."""
    return lambda value: fmt(value) if value < 0 else ""


def credit_part(fmt: Callable) -> Callable:
    """Return a formatter for a credit column: the amount when it is positive, else empty."""
    return lambda value: fmt(value) if value > 0 else ""


def sign_mark(debit: str, credit: str) -> Callable:
    """Return a formatter for a sign indicator column such as S/H, D/C or Af/Bij."""
    return lambda value: debit if value < 0 else credit


def enum_text(words: dict[str, str]) -> Callable:
    return lambda value: words[value]


def make_phone(rng: random.Random, region: str) -> str:
    """Return a valid mobile number of `region` in E.164, varied from the region's example."""
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    digits = str(example.national_number)
    kept = max(2, len(digits) - 7)  # the example's leading digits, which pick the mobile range
    for _ in range(500):
        tail = "".join(str(rng.randint(0, 9)) for _ in range(len(digits) - kept))
        number = phonenumbers.parse(f"+{example.country_code}{digits[:kept]}{tail}")
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    raise ValueError(f"no valid mobile number found for region {region}")


def phone_text(style: str) -> Callable[[str], str]:
    """Return a formatter of E.164 numbers.

    Styles: national, international, e164, 00 (international with 00 for +, except for
    North American numbers), digits (national without spaces) and slash (national with "/"
    after the area code). The style mixed picks national, international or 00 from the
    number's last digit, so reruns pick the same.
    """

    def render(value: str) -> str:
        number = phonenumbers.parse(value)
        national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
        international = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
        chosen = ("national", "international", "00")[int(value[-1]) % 3] if style == "mixed" else style
        if chosen == "national":
            return national
        if chosen == "international":
            return international
        if chosen == "00" and number.country_code != 1:
            return "00" + international[1:]
        if chosen == "00":
            return international  # North America dials 011, not 00, so "001 ..." would misparse
        if chosen == "digits":
            return re.sub(r"\D", "", national)
        if chosen == "slash":
            area, rest = national.split(" ", 1)
            return f"{area}/{re.sub(r'[^0-9]', '', rest)}"
        return value

    return render


# Bank codes that schwifty's bank registry contains, so IBAN.bic returns the bank's BIC.
BANKS = {
    "DE": [("37040044", ""), ("50010517", ""), ("10020890", "")],
    "AT": [("20111", ""), ("12000", "")],
    "FR": [("30004", "00001"), ("30006", "00001"), ("20041", "01005")],
    "NL": [("INGB", ""), ("RABO", ""), ("ABNA", "")],
    "BE": [("001", ""), ("068", "")],
    "ES": [("2100", "0418"), ("0049", "1500"), ("0182", "2370")],
    "IT": [("03069", "09606"), ("05428", "11101"), ("02008", "01664")],
    "CZ": [("0800", ""), ("0300", ""), ("2010", "")],
    "PL": [("10901014", ""), ("10202892", ""), ("11402004", "")],
    "GB": [("NWBK", "601613"), ("BARC", "200000")],
}
ACCOUNT_DIGITS = {"DE": 10, "AT": 11, "FR": 11, "NL": 10, "BE": 7, "ES": 10, "IT": 12, "CZ": 10, "PL": 16, "GB": 8}


def make_iban(rng: random.Random, country: str) -> IBAN:
    bank, branch = rng.choice(BANKS[country])
    digits = "".join(str(rng.randint(0, 9)) for _ in range(ACCOUNT_DIGITS[country]))
    return IBAN.generate(country, bank_code=bank, branch_code=branch, account_code=digits)


def domestic_account(iban: IBAN) -> str:
    """Return the account number the way the country's own statements write it."""
    bban = str(iban)[4:]
    if iban.country_code == "CZ":
        # number/bank code. The generated IBANs have the account prefix 000000, which is omitted.
        return f"{int(bban[10:])}/{bban[:4]}"
    if iban.country_code == "PL":
        return str(iban)[2:]  # the NRB is the IBAN without the country code
    if iban.country_code == "GB":
        return bban[-8:]
    return bban[-ACCOUNT_DIGITS[iban.country_code]:]


def iban_text(spaced: bool) -> Callable[[str], str]:
    return lambda value: IBAN(value).formatted if spaced else value


# Names ---------------------------------------------------------------------------------------

# Given names alternate female and male. A family name "male/female" has both forms.
PEOPLE = {
    "DE": ("Anna Lukas Sophie Jonas Marie Felix Sabine Jürgen", "Müller|Schmidt|Schneider|Fischer|Weber|Becker|Hoffmann|Schäfer"),
    "AT": ("Katharina Florian Theresa Maximilian Johanna Tobias", "Gruber|Huber|Bauer|Pichler|Steiner|Moser|Hofer"),
    "FR": ("Camille Louis Léa Hugo Chloé Arthur Élodie François", "Martin|Bernard|Dubois|Thomas|Robert|Petit|Durand|Lefèvre"),
    "NL": ("Emma Daan Sanne Lars Fleur Bram Anouk Joris", "de Vries|Jansen|van den Berg|Bakker|Visser|Smit|Meijer|de Jong"),
    "BE": ("Lotte Arne Elise Wout Louise Maxime", "Peeters|Janssens|Maes|Jacobs|Mertens|Willems|Lambert"),
    "ES": ("Lucía Hugo Martina Pablo Sofía Álvaro Carmen Javier", "García López|Martínez Ruiz|Fernández Gil|Sánchez Mora|Romero Díaz|Navarro Torres"),
    "IT": ("Giulia Marco Chiara Luca Francesca Matteo Sara Davide", "Rossi|Russo|Ferrari|Esposito|Bianchi|Romano|Colombo|Ricci"),
    "CZ": ("Jana Petr Tereza Tomáš Lucie Jiří Kateřina Ondřej", "Novák/Nováková|Svoboda/Svobodová|Dvořák/Dvořáková|Černý/Černá|Procházka/Procházková|Kučera/Kučerová"),
    "PL": ("Anna Piotr Katarzyna Tomasz Magdalena Paweł Agnieszka Michał", "Nowak|Kowalski/Kowalska|Wiśniewski/Wiśniewska|Wójcik|Kamiński/Kamińska|Zieliński/Zielińska"),
    "GB": ("Olivia Oliver Amelia George Isla Harry Emily Jack", "Smith|Jones|Taylor|Brown|Williams|Wilson|Evans"),
    "US": ("Emma Liam Ava Noah Mia James Harper Ethan", "Johnson|Miller|Davis|Garcia|Anderson|Clark|Walker"),
}
# Invented businesses, used as counterparties and organisation customers.
COMPANIES = {
    "DE": "Lindenhof Energie GmbH|Nordkamm Telekom AG|Bäckerei Sonnenbrot|Auwald Versicherung AG|Hausverwaltung Kesselberg GmbH",
    "AT": "Almblick Handels GmbH|Donautal Strom AG|Kaffeehaus Ringstraße|Gamsberg Bau GmbH",
    "FR": "Boulangerie des Tilleuls|Électricité du Val SARL|Assurances Belleforêt SA|Librairie du Quai|Transports Morvan SAS",
    "NL": "Polderlicht Energie B.V.|Bakkerij de Molenwiek|Grachtzicht Verzekeringen N.V.|Duinwater Telecom B.V.",
    "BE": "Brasserie Kempenhof BV|Ardennes Énergie SA|Schelde Logistiek NV|Boekhandel Leuvense Poort",
    "ES": "Suministros Alameda S.L.|Energía del Tajo S.A.|Panadería La Espiga|Seguros Miramar S.A.|Talleres Guadarrama S.L.",
    "IT": "Forno San Lorenzo S.r.l.|Energia Valdarno S.p.A.|Assicurazioni Lungomare S.p.A.|Trasporti Brenta S.r.l.",
    "CZ": "Pekárna U Lípy s.r.o.|Vltavská energie a.s.|Stavby Podhradí s.r.o.|Pojišťovna Beskyd a.s.",
    "PL": "Piekarnia Pod Kasztanem sp. z o.o.|Energia Mazowsze S.A.|Transport Wisłok sp. z o.o.|Ubezpieczenia Bałtyk S.A.",
    "GB": "Hollybrook Energy Ltd|Marston Lane Bakery|Greywater Insurance plc|Kestrel Freight Ltd",
    "US": "Cedar Ridge Utilities Inc.|Bluewater Grocery LLC|Summit Peak Insurance Co.|Harbor Point Logistics Inc.",
}
_FOLD = str.maketrans({"ß": "ss", "ł": "l", "Ł": "L"})


def person(rng: random.Random, country: str) -> tuple[str, str]:
    """Return an invented (given name, family name) of `country`."""
    given_names, family_names = PEOPLE[country]
    given_list = given_names.split()
    index = rng.randrange(len(given_list))
    family = rng.choice(family_names.split("|"))
    if "/" in family:
        male, female = family.split("/")
        family = female if index % 2 == 0 else male
    return given_list[index], family


def company(rng: random.Random, country: str) -> str:
    return rng.choice(COMPANIES[country].split("|"))


def email_for(name: str, rng: random.Random) -> str:
    """Return an address at a reserved example domain (RFC 2606) built from `name`."""
    folded = unicodedata.normalize("NFKD", name.translate(_FOLD)).encode("ascii", "ignore").decode()
    local = re.sub(r"[^a-z0-9]+", ".", folded.lower()).strip(".")
    return f"{local}@{rng.choice(['example.com', 'example.net', 'example.org'])}"


# Header words --------------------------------------------------------------------------------

# Header words per language, in field order, as bank exports name the columns. The last
# entries name distractors: columns that look like a target field but are not one.
CUSTOMER_WORDS = (
    "customer_id customer_type full_name given_name family_name date_of_birth incorporation_date tax_id email phone "
    "address_line1 address_line2 city postal_code country kyc_risk_rating nationality created_at branch_id salutation"
).split()
ACCOUNT_WORDS = (
    "account_id customer_id iban account_number bic currency account_type opened_on status balance balance_date "
    "overdraft_limit branch_id"
).split()
TRANSACTION_WORDS = (
    "transaction_id account_id booking_date value_date amount currency description counterparty_name "
    "counterparty_account reference transaction_type balance_after row_no mandate_id"
).split()
_CUSTOMER = {
    "en": "Customer ID|Customer Type|Full Name|First Name|Last Name|Date of Birth|Incorporation Date|Tax ID|Email|Phone|Address Line 1|Address Line 2|City|Postal Code|Country of Residence|Risk Rating|Nationality|Created At|Branch ID|Title",
    "de": "Kundennummer|Kundenart|Name|Vorname|Nachname|Geburtsdatum|Gründungsdatum|Steuer-ID|E-Mail|Telefon|Straße|Adresszusatz|Ort|PLZ|Wohnsitzland|Risikoklasse|Staatsangehörigkeit|Angelegt am|Filiale|Anrede",
    "fr": "Code client|Type de client|Nom complet|Prénom|Nom|Date de naissance|Date d'immatriculation|Numéro fiscal|Courriel|Téléphone|Adresse|Complément d'adresse|Ville|Code postal|Pays de résidence|Niveau de risque|Nationalité|Date de création|Code agence|Civilité",
    "nl": "Klantnummer|Klanttype|Naam|Voornaam|Achternaam|Geboortedatum|Oprichtingsdatum|Fiscaal nummer|E-mailadres|Telefoonnummer|Adres|Adresregel 2|Woonplaats|Postcode|Land|Risicoprofiel|Nationaliteit|Aangemaakt op|Filiaal|Aanhef",
    "es": "ID cliente|Tipo de persona|Nombre completo|Nombre|Apellidos|Fecha de nacimiento|Fecha de constitución|NIF|Correo electrónico|Teléfono|Domicilio|Domicilio 2|Población|Código postal|País de residencia|Nivel de riesgo|Nacionalidad|Fecha de alta|Oficina|Tratamiento",
    "it": "Codice cliente|Tipo cliente|Intestatario|Nome|Cognome|Data di nascita|Data di costituzione|Codice fiscale|Email|Telefono|Indirizzo|Presso|Comune|CAP|Paese di residenza|Profilo di rischio|Cittadinanza|Data inserimento|Filiale|Titolo",
    "cs": "Číslo klienta|Typ klienta|Jméno a příjmení|Jméno|Příjmení|Datum narození|Datum vzniku|DIČ|E-mail|Telefon|Ulice|Doplněk adresy|Obec|PSČ|Stát|Riziková kategorie|Státní občanství|Datum založení záznamu|Pobočka|Oslovení",
    "pl": "Nr klienta|Typ klienta|Imię i nazwisko|Imię|Nazwisko|Data urodzenia|Data założenia|NIP|E-mail|Telefon|Adres|Adres cd.|Miejscowość|Kod pocztowy|Kraj zamieszkania|Poziom ryzyka|Obywatelstwo|Data utworzenia|Oddział|Zwrot grzecznościowy",
}
_ACCOUNT = {
    "en": "Account ID|Customer ID|IBAN|Account Number|BIC|Currency|Account Type|Open Date|Status|Balance|Balance Date|Overdraft Limit|Branch ID",
    "de": "Konto-ID|Kundennummer|IBAN|Kontonummer|BIC|Währung|Kontoart|Eröffnungsdatum|Status|Kontostand|Stand per|Dispositionskredit|Filiale",
    "fr": "Identifiant compte|Code client|IBAN|Numéro de compte|BIC|Devise|Type de compte|Date d'ouverture|Statut|Solde|Date du solde|Découvert autorisé|Code agence",
    "nl": "Rekening-ID|Klantnummer|IBAN|Rekeningnummer|BIC|Valuta|Soort rekening|Openingsdatum|Status|Saldo|Saldodatum|Kredietlimiet|Filiaal",
    "es": "ID cuenta|ID cliente|IBAN|Número de cuenta|BIC|Divisa|Tipo de cuenta|Fecha de apertura|Estado|Saldo|Fecha saldo|Límite de descubierto|Oficina",
    "it": "Codice rapporto|NDG|IBAN|Numero conto|BIC|Divisa|Tipologia conto|Data apertura|Stato|Saldo contabile|Data saldo|Fido accordato|Filiale",
    "cs": "ID účtu|Číslo klienta|IBAN|Číslo účtu|BIC|Měna|Typ účtu|Datum založení|Stav|Zůstatek|Ke dni|Povolený debet|Pobočka",
    "pl": "ID rachunku|Nr klienta|IBAN|Numer rachunku|BIC|Waluta|Typ rachunku|Data otwarcia|Status|Saldo|Data salda|Limit debetowy|Oddział",
}
_TRANSACTION = {
    "en": "Transaction ID|Account|Booking Date|Value Date|Amount|Currency|Description|Counterparty|Counterparty Account|Reference|Type|Balance|Row No|Mandate ID",
    "de": "Buchungs-ID|Auftragskonto|Buchungstag|Wertstellung|Betrag|Währung|Verwendungszweck|Auftraggeber/Empfänger|IBAN Auftraggeber/Empfänger|Kundenreferenz|Buchungstext|Saldo nach Buchung|Lfd. Nr.|Mandatsreferenz",
    "fr": "N° d'opération|Compte|Date opération|Date de valeur|Montant|Devise|Libellé|Tiers|Compte du tiers|Référence|Type d'opération|Solde|N° de ligne|Référence du mandat",
    "nl": "Transactie-ID|Rekening|Boekdatum|Rentedatum|Bedrag|Valuta|Omschrijving|Naam tegenpartij|Tegenrekening|Betalingskenmerk|Transactiesoort|Saldo na boeking|Volgnummer|Machtigingskenmerk",
    "es": "ID movimiento|Cuenta|Fecha operación|Fecha valor|Importe|Divisa|Concepto|Beneficiario/Ordenante|Cuenta contraparte|Referencia|Tipo de movimiento|Saldo|Nº línea|Referencia del mandato",
    "it": "ID movimento|Conto|Data contabile|Data valuta|Importo|Divisa|Descrizione|Controparte|Conto controparte|Riferimento|Causale|Saldo|N. riga|ID mandato",
    "cs": "ID pohybu|Číslo účtu|Datum zaúčtování|Datum valuty|Částka|Měna|Zpráva pro příjemce|Název protiúčtu|Protiúčet|Variabilní symbol|Typ transakce|Zůstatek|Pořadí|ID mandátu",
    "pl": "ID transakcji|Numer rachunku|Data księgowania|Data waluty|Kwota|Waluta|Opis operacji|Nadawca/Odbiorca|Rachunek nadawcy/odbiorcy|Numer referencyjny|Typ transakcji|Saldo po operacji|Lp.|Identyfikator mandatu",
}


def _vocabulary(words: list[str], table: dict[str, str]) -> dict[str, dict[str, str]]:
    vocabulary = {}
    for language, line in table.items():
        headers = line.split("|")
        if len(headers) != len(words):
            raise ValueError(f"header words for {language!r}: {len(headers)} entries, expected {len(words)}")
        vocabulary[language] = dict(zip(words, headers))
    return vocabulary


CUSTOMER_HEADERS = _vocabulary(CUSTOMER_WORDS, _CUSTOMER)
ACCOUNT_HEADERS = _vocabulary(ACCOUNT_WORDS, _ACCOUNT)
TRANSACTION_HEADERS = _vocabulary(TRANSACTION_WORDS, _TRANSACTION)
