"""Tests for header matching, the analyst's proposals, script compilation, the import policy and the sandbox."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from agents.analyst import propose
from agents.matcher import lexicon, name_score, normalise
from onboard.spec import SourceFormat
from serverless.compiler import compile_spec, script_sha256
from serverless.policy import check_script
from serverless.profiling import profile_table
from serverless.sandbox import run_script

REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"
PROJECT = Path(__file__).resolve().parents[1]


def field_score(header: str, field: str) -> float:
    return name_score(header, lexicon()["fields"][field])[0]


def best_score(header: str) -> float:
    return max(name_score(header, terms)[0] for terms in lexicon()["fields"].values())


def propose_for(frame: pd.DataFrame, entity: str = "auto"):
    frame = frame.astype(object)
    values = {c: [str(x) for x in frame[c]] for c in frame.columns}
    source = SourceFormat(kind="csv", encoding="utf-8", delimiter=";", columns=list(frame.columns))
    spec, _ = propose(profile_table(frame), values, source, entity=entity)
    return spec


SOLL_HABEN = pd.DataFrame({
    "Kontonummer": ["12345678001"] * 3,
    "Text": ["Habenzinsen", "Kapitalertragsteuer", "Miete"],
    "Datum": ["31.12.2013", "31.12.2013", "02.01.2014"],
    "Währung": ["EUR"] * 3,
    "Soll": ["0,00", "34,56", "1.500,00"],
    "Haben": ["12,23", "0,00", "0,00"],
})

CREDIT_DEBET = pd.DataFrame({
    "Rekeningnummer": ["NL99KNAB9999999999"] * 3,
    "Transactiedatum": ["21-06-2019", "22-06-2019", "23-06-2019"],
    "Valutacode": ["EUR"] * 3,
    "CreditDebet": ["D", "C", "D"],
    "Bedrag": ["827,75", "2500", "1,00"],
    "Omschrijving": ["Huur", "Salaris", "Rente"],
})

CUSTOMERS = pd.DataFrame({
    "Kundennummer": ["K001", "K002", "K003"],
    "Name": ["Anna Muster", "Beta GmbH", "Carl Test"],
    "Geburtsdatum": ["01.02.1980", "15.03.1975", "30.12.1990"],
    "E-Mail": ["anna@example.com", "info@example.com", "carl@example.com"],
    "Land": ["DE", "AT", "CH"],
    "PLZ": ["10115", "1010", "8001"],
    "Ort": ["Berlin", "Wien", "Zürich"],
})


# Header normalisation and name scores


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Währung", "wahrung"),
        ("WAEHRUNG", "waehrung"),
        ("Straße", "strasse"),
        ("Datum zaúčtování", "datum zauctovani"),
        ("Date d'opération", "date d operation"),
        ("CustomerID", "customer id"),
        ("Acct_Bal", "account balance"),
    ],
)
def test_normalise_header(header, expected):
    assert normalise(header) == expected


def test_normalise_abbreviation_no():
    assert normalise("Customer No") == "customer number"


@pytest.mark.parametrize("header", ["Währung", "WAEHRUNG", "Waehrung", "währung"])
def test_currency_german_spellings(header):
    assert field_score(header, "currency") == 1.0


HEADER_CASES = [
    # Czech
    ("Měna", "currency"),
    ("Částka", "amount"),
    ("Datum zaúčtování", "booking_date"),
    ("Popis", "description"),
    ("Číslo účtu", "account_id"),
    ("Rodné číslo", "date_of_birth"),
    ("Datum narození", "date_of_birth"),
    # Dutch
    ("Bedrag", "amount"),
    ("Omschrijving", "description"),
    ("Tegenrekening", "counterparty_account"),
    ("Rekeningnummer", "account_id"),
    ("Geboortedatum", "date_of_birth"),
    # Spanish
    ("Importe", "amount"),
    ("Fecha", "booking_date"),
    ("Concepto", "description"),
    ("Moneda", "currency"),
    ("Fecha de nacimiento", "date_of_birth"),
    # French
    ("Montant", "amount"),
    ("Libellé", "description"),
    ("Date d'opération", "booking_date"),
    ("Devise", "currency"),
    ("Date de naissance", "date_of_birth"),
]


@pytest.mark.parametrize(("header", "field"), HEADER_CASES, ids=[h for h, _ in HEADER_CASES])
def test_foreign_header_matches(header, field):
    score = field_score(header, field)

    assert score >= 0.9
    assert score == best_score(header)


def test_unknown_header_no_score():
    assert best_score("Zzyzx Qwerty") == 0.0


def test_generic_term_weak():
    # "Datum" alone is a booking date, but inside a longer header it is weak evidence.
    assert field_score("Datum", "booking_date") == 1.0
    assert field_score("Datum Export Lauf", "booking_date") < 0.4


# The analyst's proposals


def test_propose_soll_haben_pair():
    spec = propose_for(SOLL_HABEN)

    amount = spec.mapping_for("amount")
    assert spec.entity == "transaction"
    assert amount.transform == "debit_credit_pair"
    assert amount.sources == ["Soll", "Haben"]
    assert amount.params["decimal"] == ","
    assert amount.params["thousands"] == "."


def test_propose_credit_debet_indicator():
    spec = propose_for(CREDIT_DEBET)

    amount = spec.mapping_for("amount")
    assert amount.transform == "sign_from_indicator"
    assert amount.sources == ["Bedrag", "CreditDebet"]
    assert "D" in amount.params["debit_values"]
    assert "C" in amount.params["credit_values"]
    assert amount.params["decimal"] == ","


def test_propose_soll_haben_letters():
    frame = pd.DataFrame({
        "Buchungstag": ["01.02.2024", "02.02.2024", "13.02.2024"],
        "Umsatz": ["1.500,00", "20,00", "3,50"],
        "Soll/Haben": ["S", "H", "S"],
        "Währung": ["EUR"] * 3,
        "Konto": ["DE89370400440532013000"] * 3,
    })

    amount = propose_for(frame).mapping_for("amount")

    assert amount.transform == "sign_from_indicator"
    assert amount.sources == ["Umsatz", "Soll/Haben"]
    assert "S" in amount.params["debit_values"]


def test_propose_picks_customer():
    spec = propose_for(CUSTOMERS)

    assert spec.entity == "customer"
    assert spec.entity_rationale.startswith("chose customer: fit scores customer")
    assert "minus 1.5 per required field" in spec.entity_rationale
    assert spec.mapping_for("customer_id").sources == ["Kundennummer"]
    assert spec.mapping_for("date_of_birth").params == {"format": "%d.%m.%Y"}


def test_propose_birth_number_transform():
    frame = pd.DataFrame({"client_id": ["1", "2", "3"], "birth_number": ["706213", "450204", "406009"], "district_id": ["18", "1", "5"]})

    spec = propose_for(frame)

    assert spec.entity == "customer"
    assert spec.mapping_for("date_of_birth").transform == "birth_number_to_date"


REAL_AMOUNTS = {
    "csv_at_ing-diba": ("ing-diba.csv", "debit_credit_pair", ["Soll", "Haben"]),
    "csv_nl_knab": ("Knab_transactieoverzicht_ok.csv", "sign_from_indicator", ["Bedrag", "CreditDebet"]),
    "berka_pkdd99": ("trans.asc", "sign_from_indicator", ["amount", "type"]),
}


@pytest.mark.parametrize("folder", list(REAL_AMOUNTS))
def test_propose_real_amount(folder):
    from onboard.reader import read_table

    file_name, transform, sources = REAL_AMOUNTS[folder]
    path = REALDATA / folder / file_name
    if not path.is_file():
        pytest.skip(f"real sample not found: {path}")
    table = read_table(path)
    values = {c: [str(x) for x in table.frame[c]] for c in table.frame.columns}

    spec, _ = propose(profile_table(table.frame), values, table.source)

    assert spec.entity == "transaction"
    assert spec.mapping_for("amount").transform == transform
    assert spec.mapping_for("amount").sources == sources


# Compiling a spec into a script

HASH_SEED_PROGRAM = textwrap.dedent(
    """
    import pandas as pd
    from agents.analyst import propose
    from onboard.spec import SourceFormat
    from serverless.compiler import compile_spec, script_sha256
    from serverless.profiling import profile_table

    frame = pd.DataFrame({columns!r}, dtype=object)
    values = {{c: [str(x) for x in frame[c]] for c in frame.columns}}
    source = SourceFormat(kind="csv", encoding="utf-8", delimiter=";", columns=list(frame.columns))
    spec, _ = propose(profile_table(frame), values, source)
    print(script_sha256(compile_spec(spec)))
    """
)


def test_compile_same_bytes():
    spec = propose_for(CREDIT_DEBET)

    first = compile_spec(spec)
    second = compile_spec(spec.model_copy(deep=True))

    assert first.encode("utf-8") == second.encode("utf-8")
    assert script_sha256(first) == script_sha256(second)
    assert spec.sha256() in first


def test_compile_stable_across_processes():
    program = HASH_SEED_PROGRAM.format(columns=CREDIT_DEBET.to_dict(orient="list"))
    expected = script_sha256(compile_spec(propose_for(CREDIT_DEBET)))
    digests = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        completed = subprocess.run([sys.executable, "-c", program], cwd=PROJECT, env=env, capture_output=True, text=True, timeout=120)
        assert completed.returncode == 0, completed.stderr
        digests.append(completed.stdout.strip())

    assert digests == [expected, expected]


def test_compile_ignores_rationale():
    spec = propose_for(CREDIT_DEBET)
    reworded = spec.model_copy(deep=True)
    reworded.mappings[1].rationale = "reworded by the reviewer"
    reworded.entity_rationale = "reworded by the reviewer"

    assert script_sha256(compile_spec(reworded)) == script_sha256(compile_spec(spec))


@pytest.mark.parametrize("frame", [SOLL_HABEN, CREDIT_DEBET, CUSTOMERS], ids=["soll_haben", "credit_debet", "customers"])
def test_compiled_script_passes_policy(frame):
    script = compile_spec(propose_for(frame))

    assert check_script(script) == []


def test_compile_unknown_column():
    spec = propose_for(CREDIT_DEBET)
    spec.mapping_for("description").sources = ["Mededelingen"]

    with pytest.raises(ValueError, match="Mededelingen"):
        compile_spec(spec)


# The import policy

ENTRY = "def transform(source):\n    return source\n"


@pytest.mark.parametrize(
    ("script", "problem"),
    [
        ("import os\n" + ENTRY, "import of 'os' is not allowed"),
        ("from os import path\n" + ENTRY, "import from 'os' is not allowed"),
        ("def transform(source):\n    open('/etc/passwd')\n    return source\n", "use of 'open' is not allowed"),
        ("def transform(source):\n    __import__('os')\n    return source\n", "use of '__import__' is not allowed"),
        ("def transform(source):\n    return source.__class__\n", "access to dunder attribute '__class__' is not allowed"),
        ("import pandas as pd\n\n\ndef transform(source):\n    return pd.read_csv('x.csv')\n", "file or process access through 'read_csv'"),
        ("import pandas as pd\n", "no transform() entry point"),
        ("def transform(:\n", "syntax error"),
    ],
    ids=["import_os", "from_os", "open", "dunder_import", "dunder_attribute", "read_csv", "no_entry", "syntax"],
)
def test_policy_rejects(script, problem):
    problems = check_script(script)

    assert len(problems) == 1
    assert problem in problems[0]


def test_policy_reports_line():
    problems = check_script("import pandas as pd\nimport os\n" + ENTRY)

    assert problems == ["line 2: import of 'os' is not allowed"]


def test_policy_allows_helpers():
    script = "import pandas as pd\nimport onboard.transforms\nfrom onboard import transforms as t\n" + ENTRY

    assert check_script(script) == []


def test_policy_from_pandas_read_csv():
    script = "from pandas import read_csv\n\n\ndef transform(source):\n    return read_csv('x.csv')\n"

    assert check_script(script) != []


# The sandbox

LOOP_SCRIPT = "import pandas as pd\n\n\ndef transform(source):\n    while True:\n        pass\n"
RAISE_SCRIPT = "import pandas as pd\n\n\ndef transform(source):\n    raise ValueError('column Bedrag is missing')\n"
SMALL_TABLE = pd.DataFrame({"Bedrag": ["1.500,00", "2,50"]}, dtype=object)


@pytest.mark.parametrize("check_policy", [True, False], ids=["policy", "no_policy"])
def test_sandbox_loop_times_out(tmp_path, check_policy):
    result = run_script(LOOP_SCRIPT, SMALL_TABLE, [2, 3], timeout_s=3, check_policy=check_policy, keep_output=tmp_path / "out.parquet")

    assert result.status == "timeout"
    assert result.error_name == "Timeout"
    assert result.duration_s < 30
    assert result.output_path is None


@pytest.mark.parametrize("check_policy", [True, False], ids=["policy", "no_policy"])
def test_sandbox_script_raises(tmp_path, check_policy):
    result = run_script(RAISE_SCRIPT, SMALL_TABLE, [2, 3], timeout_s=30, check_policy=check_policy, keep_output=tmp_path / "out.parquet")

    assert result.status == "error"
    assert result.error_name == "ValueError"
    assert result.message == "column Bedrag is missing"
    assert "ValueError" in result.traceback
    assert result.output_path is None


def test_sandbox_policy_violation(tmp_path):
    result = run_script("import os\n" + ENTRY, SMALL_TABLE, [2, 3], timeout_s=30, keep_output=tmp_path / "out.parquet")

    assert result.status == "policy_violation"
    assert result.error_name == "PolicyViolation"
    assert "import of 'os'" in result.message
    assert not (tmp_path / "out.parquet").exists()


def test_sandbox_runs_compiled_pair(tmp_path):
    spec = propose_for(SOLL_HABEN)
    output = tmp_path / "out.parquet"

    result = run_script(compile_spec(spec), SOLL_HABEN.astype(object), [2, 3, 4], timeout_s=60, keep_output=output)

    assert result.status == "ok", result.message
    assert result.rows == 3
    converted = pd.read_parquet(output)
    assert converted["_line"].tolist() == [2, 3, 4]
    assert converted["amount"].tolist() == ["12.23", "-34.56", "-1500.00"]
    assert sum(Decimal(x) for x in converted["amount"]) == Decimal("-1522.33")
    assert converted["_error"].isna().all()
