"""Load, idempotency, conflicts, reconciliation and lock errors on SQLite and on PostgreSQL.

The PostgreSQL cases need a server (see the `core_database` fixture in tests/core_databases.py)
and are skipped without one.
"""

from __future__ import annotations

import sqlite3
from decimal import Decimal

import pandas as pd
import pytest

from conftest import SAMPLES
from onboard import database
from onboard.errors import DatabaseUnavailable
from onboard.schema import load_schema
from onboard.settings import load_settings

SAMPLE = SAMPLES / "northwind_2026-11.csv"
APPROVER = "Dana Reviewer"
SCRIPT_SHA = "c" * 64


def approve_sample() -> dict:
    from graph import runner

    waiting = runner.start(str(SAMPLE), "auto", None, {}, "tester")
    assert waiting["status"] == "waiting_for_approval", waiting.get("error")
    return runner.answer(waiting["thread_id"], {"action": "approve", "by": APPROVER})


def test_sample_loads_and_reconciles(core_database):
    done = approve_sample()

    assert done["status"] == "loaded", done.get("error")
    assert done["reconciled"] is True
    assert done["rows_in"] == 12
    assert done["rows_loaded"] == 11
    assert done["rows_rejected"] == 1
    fee = core_database.rows("SELECT booking_date, value_date, amount, currency, account_id FROM transactions WHERE transaction_id = ?", "NW-26-000102")
    assert fee == [("2026-11-03", "2026-11-04", "-312.45", "GBP", "GB33BUKB20201555555555")]
    total = sum(Decimal(amount) for (amount,) in core_database.rows("SELECT amount FROM transactions"))
    assert total == Decimal("-2965.85")
    rejected = core_database.rows("SELECT source_line, reason FROM rejected_rows")
    assert len(rejected) == 1
    assert rejected[0][0] == 15
    assert "booking_date" in rejected[0][1]
    assert core_database.rows("SELECT actor FROM audit WHERE action = 'approved'") == [(APPROVER,)]
    assert core_database.rows("SELECT COUNT(*) FROM outbox")[0][0] >= 1


def test_same_file_twice_changes_nothing(core_database):
    from graph import runner

    approve_sample()
    tables = ("transactions", "accounts", "loads", "load_rows", "rejected_rows")
    before = {table: core_database.rows(f"SELECT COUNT(*) FROM {table}")[0][0] for table in tables}

    again = runner.start(str(SAMPLE), "auto", None, {}, "tester")

    assert again["status"] == "loaded", again.get("error")
    assert again["reused_format"]
    assert again["rows_new"] == 0
    assert again["reconciled"] is True
    after = {table: core_database.rows(f"SELECT COUNT(*) FROM {table}")[0][0] for table in tables}
    assert after == before


def transactions(*rows: tuple) -> pd.DataFrame:
    columns = ["_line", "transaction_id", "account_id", "booking_date", "amount", "currency"]
    return pd.DataFrame([dict(zip(columns, row)) for row in rows], dtype=object)


def load(valid: pd.DataFrame, file_sha: str) -> database.LoadResult:
    return database.load_rows(
        load_settings().database_path, load_schema().entity("transaction"), valid, [],
        thread_id="test", client="tester", file_sha256=file_sha, script_sha256=SCRIPT_SHA, rows_in=len(valid),
    )


def reconcile(result: database.LoadResult, valid: pd.DataFrame) -> database.Reconciliation:
    return database.reconcile(load_settings().database_path, load_schema().entity("transaction"), result, valid, len(valid), 0)


def test_duplicates_and_conflicts_are_rejected(core_database):
    first_file = transactions(
        (2, "T1", "ACC-1", "2026-11-02", "10.50", "EUR"),
        (3, "T2", "ACC-1", "2026-11-03", "-4.25", "EUR"),
        (4, "T2", "ACC-1", "2026-11-03", "-4.25", "EUR"),
    )
    first = load(first_file, "a" * 64)
    assert (first.rows_inserted, first.rows_conflicting, first.placeholders) == (2, 1, 1)
    assert "appears twice" in first.conflicts[0]["reason"]
    assert reconcile(first, first_file).passed

    second_file = transactions(
        (2, "T1", "ACC-1", "2026-11-02", "99.00", "EUR"),
        (3, "T3", "ACC-1", "2026-11-04", "1.00", "EUR"),
    )
    second = load(second_file, "b" * 64)
    assert (second.rows_inserted, second.rows_conflicting) == (1, 1)
    assert "already exists with different values" in second.conflicts[0]["reason"]
    recon = reconcile(second, second_file)
    assert recon.passed, recon.checks
    assert recon.totals_loaded == {"EUR": "1.00"}
    assert core_database.rows("SELECT amount FROM transactions WHERE transaction_id = ?", "T1") == [("10.50",)]

    repeated = load(first_file, "a" * 64)
    assert repeated.already_loaded is True
    assert repeated.load_id == first.load_id
    assert repeated.rows_inserted == 0
    assert reconcile(repeated, first_file).passed
    assert core_database.rows("SELECT COUNT(*) FROM loads")[0][0] == 2


def test_locked_database_names_next_step(core_database, monkeypatch):
    valid = transactions((2, "L1", "ACC-9", "2026-11-02", "5.00", "EUR"))
    load(transactions((2, "L0", "ACC-9", "2026-11-01", "1.00", "EUR")), "0" * 64)  # creates the tables
    monkeypatch.setenv("ONBOARD_DATABASE_BUSY_TIMEOUT_S", "1")

    if core_database.url is None:
        holder = sqlite3.connect(load_settings().database_path, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
    else:
        import psycopg

        holder = psycopg.connect(core_database.url)
        holder.execute("LOCK TABLE loads IN ACCESS EXCLUSIVE MODE")
    try:
        with pytest.raises(DatabaseUnavailable, match="is locked by another connection"):
            load(valid, "1" * 64)
    finally:
        if core_database.url is None:
            holder.execute("ROLLBACK")
        else:
            holder.rollback()
        holder.close()

    assert core_database.rows("SELECT COUNT(*) FROM transactions WHERE transaction_id = ?", "L1") == [(0,)]
    assert load(valid, "1" * 64).rows_inserted == 1


def test_unknown_database_url_is_rejected(home, monkeypatch):
    from onboard.errors import OnboardError

    monkeypatch.setenv("ONBOARD_DATABASE_URL", "mysql://user:secret@127.0.0.1/bank")
    with pytest.raises(OnboardError, match="must be a postgresql:// URL") as raised:
        load(transactions((2, "U1", "ACC-1", "2026-11-02", "1.00", "EUR")), "2" * 64)
    assert "secret" not in str(raised.value)


def test_repeated_key_found_across_chunks(core_database):
    """A key repeated in a later chunk is refused as in one frame, with the same reasons."""
    whole = transactions(
        (2, "T1", "ACC-1", "2026-11-02", "10.50", "EUR"),
        (3, "T2", "ACC-1", "2026-11-03", "-4.25", "EUR"),
        (4, "T1", "ACC-1", "2026-11-02", "10.50", "EUR"),
        (5, "T2", "ACC-1", "2026-11-03", "7.00", "EUR"),
    )
    chunks = [whole.iloc[:2].reset_index(drop=True), whole.iloc[2:].reset_index(drop=True)]

    result = database.load_rows(
        load_settings().database_path, load_schema().entity("transaction"), iter(chunks), [],
        thread_id="test", client="tester", file_sha256="c" * 64, script_sha256=SCRIPT_SHA, rows_in=len(whole),
    )

    assert (result.rows_offered, result.rows_inserted, result.rows_conflicting) == (4, 2, 2)
    reasons = {c["line"]: c["reason"] for c in result.conflicts}
    assert "appears twice" in reasons[4]
    assert "already exists with different values" in reasons[5]
    recon = database.reconcile(load_settings().database_path, load_schema().entity("transaction"), result, iter(chunks), len(whole), 0)
    assert recon.passed, recon.checks
    assert recon.totals_loaded == {"EUR": "6.25"}
