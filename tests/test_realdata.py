"""Real bank exports through the whole run: profile, map, approve, load, reconcile.

The expected values were read off the files by hand; they are the right answers, not the
product's output copied back.
"""

from __future__ import annotations

import csv
import sqlite3
from decimal import Decimal

import pytest

from conftest import realdata
from graph import runner

APPROVER = "Real Data Tester"

# (file, defaults, expected entity, key -> {field: value} checked by hand)
CASES = [
    ("csv_de_sparkasse_freiburg/simple2.csv", {}, "transaction", None),
    ("csv_at_ing-diba/ing-diba.csv", {}, "transaction", None),
    ("csv_nl_knab/Knab_transactieoverzicht_ok.csv", {}, "transaction", None),
    ("csv_de_ing/test_with_saldo_2.csv", {}, "transaction", None),
    ("berka_pkdd99/trans.asc", {"currency": "CZK"}, "transaction", None),
    ("berka_pkdd99/client.asc", {}, "customer", None),
    ("berka_pkdd99/account.asc", {}, "account", None),
]


def _db(home):
    return sqlite3.connect(home / "core_banking.sqlite")


def _onboard(path, defaults=None, entity="auto"):
    waiting = runner.start(str(path), entity, "realdata", defaults or {}, "tester")
    assert waiting["status"] == "waiting_for_approval", waiting
    return runner.answer(waiting["thread_id"], {"action": "approve", "by": APPROVER})


@pytest.mark.parametrize("relative,defaults,entity,_", CASES, ids=[c[0].split("/")[0] for c in CASES])
def test_real_export_loads_and_reconciles(home, relative, defaults, entity, _):
    path = realdata(relative)
    done = _onboard(path, defaults)
    assert done["status"] == "loaded", done.get("error")
    assert done["entity"] == entity
    assert done["reconciled"] is True
    assert done["rows_loaded"] + done["rows_rejected"] == done["rows_in"]
    assert done["rows_rejected"] == 0


def test_sparkasse_values(home):
    path = realdata("csv_de_sparkasse_freiburg/simple2.csv")
    _onboard(path)
    with _db(home) as db:
        first = db.execute("SELECT booking_date, value_date, amount, currency, account_id FROM transactions WHERE source_line = 2").fetchone()
        amounts = [Decimal(a) for (a,) in db.execute("SELECT amount FROM transactions")]
    assert first == ("2018-04-03", "2018-04-04", "-22.59", "EUR", "12345678")
    # The column total read independently from the raw file (German decimal comma).
    with path.open(encoding="cp1252", newline="") as handle:
        raw = list(csv.reader(handle, delimiter=";"))[1:]
    expected = sum(Decimal(row[14].replace(".", "").replace(",", ".")) for row in raw if row)
    assert sum(amounts) == expected


def test_ing_diba_debit_credit_columns(home):
    _onboard(realdata("csv_at_ing-diba/ing-diba.csv"))
    with _db(home) as db:
        rows = dict(db.execute("SELECT description, amount FROM transactions").fetchall())
        date = db.execute("SELECT booking_date FROM transactions WHERE description = 'Habenzinsen'").fetchone()[0]
    assert rows["Habenzinsen"] == "12.23"
    assert rows["Kapitalertragsteuer"] == "-34.56"
    assert rows["Auszahlung - XXX"] == "-1500.00"
    assert date == "2013-12-31"


def test_knab_indicator_column(home):
    _onboard(realdata("csv_nl_knab/Knab_transactieoverzicht_ok.csv"))
    with _db(home) as db:
        first = db.execute("SELECT booking_date, amount FROM transactions WHERE source_line = 3").fetchone()
        second = db.execute("SELECT amount FROM transactions WHERE source_line = 4").fetchone()[0]
        whole = db.execute("SELECT amount FROM transactions WHERE source_line = 5").fetchone()[0]
    assert first == ("2019-06-21", "-827.75")
    assert second == "827.75"
    assert whole == "-2500"


def test_ing_de_preamble_account(home):
    _onboard(realdata("csv_de_ing/test_with_saldo_2.csv"))
    with _db(home) as db:
        rows = db.execute("SELECT account_id, booking_date, amount, balance_after FROM transactions ORDER BY source_line").fetchall()
    assert rows[0] == ("DE12345678901234567890", "2018-12-28", "-5.50", "150.00")
    assert rows[1][3] == "155.5"


def test_berka_transactions_and_customers(home):
    _onboard(realdata("berka_pkdd99/trans.asc"), {"currency": "CZK"})
    _onboard(realdata("berka_pkdd99/client.asc"))
    _onboard(realdata("berka_pkdd99/account.asc"))
    with _db(home) as db:
        trans = db.execute("SELECT account_id, booking_date, amount, currency, balance_after FROM transactions WHERE transaction_id = '695247'").fetchone()
        woman = db.execute("SELECT date_of_birth FROM customers WHERE customer_id = '1'").fetchone()[0]
        man = db.execute("SELECT date_of_birth FROM customers WHERE customer_id = '2'").fetchone()[0]
        account = db.execute("SELECT opened_on, placeholder FROM accounts WHERE account_id = '576'").fetchone()
        orphans = db.execute("SELECT COUNT(*) FROM transactions t LEFT JOIN accounts a ON a.account_id = t.account_id WHERE a.account_id IS NULL").fetchone()[0]
    assert trans == ("2378", "1993-01-01", "700.00", "CZK", "700.00")
    # Birth number 706213: month 62 is a woman's month 12.
    assert woman == "1970-12-13"
    assert man == "1945-02-04"
    # The account placeholder made by the transactions is replaced by the real account row.
    assert account == ("1993-01-01", 0)
    assert orphans == 0


def test_knab_second_file_reuses_format(home, tmp_path):
    source = realdata("csv_nl_knab/Knab_transactieoverzicht_ok.csv")
    lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
    first, second = tmp_path / "knab_part1.csv", tmp_path / "knab_part2.csv"
    first.write_text("".join(lines[:2] + lines[2:16]), encoding="utf-8")
    second.write_text("".join(lines[:2] + lines[16:]), encoding="utf-8")

    _onboard(first)
    again = runner.start(str(second), "auto", "realdata", {}, "tester")
    assert again["status"] == "loaded"
    assert again["reused_format"]
    assert again["rows_loaded"] == len(lines) - 16


def test_killed_integrator_resumes_without_duplicates(home, monkeypatch):
    """A crash after the load committed but before the checkpoint: resume loads nothing twice."""
    from graph import nodes

    path = realdata("csv_at_ing-diba/ing-diba.csv")
    waiting = runner.start(str(path), "auto", None, {}, "tester")
    real = nodes.integrator.load_and_reconcile

    def crash_after_load(*args, **kwargs):
        real(*args, **kwargs)
        raise KeyboardInterrupt("simulated kill after the load committed")

    monkeypatch.setattr(nodes.integrator, "load_and_reconcile", crash_after_load)
    with pytest.raises(KeyboardInterrupt):
        runner.answer(waiting["thread_id"], {"action": "approve", "by": APPROVER})
    monkeypatch.setattr(nodes.integrator, "load_and_reconcile", real)

    done = runner.resume(waiting["thread_id"])
    assert done["status"] == "loaded"
    assert done["reconciled"] is True
    assert done["rows_new"] == 0
    with _db(home) as db:
        assert db.execute("SELECT COUNT(*) FROM transactions").fetchone()[0] == 6
