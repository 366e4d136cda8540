"""End-to-end runs through the CLI in separate processes: run, wait, approve, load, reuse."""

from __future__ import annotations

import json
import shutil
import sqlite3
import struct
import subprocess
from decimal import Decimal
from pathlib import Path

import lxml.html
import pytest

from conftest import SAMPLES, onboard_cli

SAMPLE = SAMPLES / "northwind_2026-11.csv"
SAMPLE_NEXT_MONTH = SAMPLES / "northwind_2026-12.csv"


def _json(completed) -> dict:
    assert completed.stdout.strip(), f"no output; stderr: {completed.stderr}"
    return json.loads(completed.stdout.strip().splitlines()[-1])


def _rows(home, sql: str, *params):
    with sqlite3.connect(home / "core_banking.sqlite") as connection:
        return connection.execute(sql, params).fetchall()


def test_run_waits_then_approval_loads(home):
    started = onboard_cli(["run", str(SAMPLE), "--json"], home)
    assert started.returncode == 10, started.stderr
    waiting = _json(started)
    assert waiting["status"] == "waiting_for_approval"

    approved = onboard_cli(["approve", waiting["thread_id"], "--by", "Dana Reviewer", "--json"], home)
    assert approved.returncode == 0, approved.stderr
    done = _json(approved)
    assert done["status"] == "loaded"
    assert done["reconciled"] is True
    assert done["rows_in"] == 12
    assert done["rows_loaded"] + done["rows_rejected"] == 12
    # 31/11/2026 does not exist: that row is rejected with its reason, not dropped.
    assert done["rows_rejected"] == 1
    reasons = _rows(home, "SELECT source_line, reason FROM rejected_rows")
    assert reasons[0][0] == 15
    assert "booking_date" in reasons[0][1]

    fee = _rows(home, "SELECT booking_date, value_date, amount, currency, account_id FROM transactions WHERE transaction_id = 'NW-26-000102'")
    assert fee == [("2026-11-03", "2026-11-04", "-312.45", "GBP", "GB33BUKB20201555555555")]
    credit = _rows(home, "SELECT amount FROM transactions WHERE transaction_id = 'NW-26-000101'")
    assert credit == [("1250.00",)]
    total = sum(Decimal(a) for (a,) in _rows(home, "SELECT amount FROM transactions"))
    # Credits 7604.20 minus debits 10570.05; the rejected 499.00 debit is not loaded.
    assert total == Decimal("-2965.85")

    approvals = _rows(home, "SELECT actor FROM audit WHERE action = 'approved'")
    assert approvals == [("Dana Reviewer",)]
    assert _rows(home, "SELECT COUNT(*) FROM outbox")[0][0] >= 1


def test_status_of_waiting_run(home):
    waiting = _json(onboard_cli(["run", str(SAMPLE), "--json"], home))
    status = onboard_cli(["status", waiting["thread_id"], "--json"], home)
    assert status.returncode == 10
    assert _json(status)["status"] == "waiting_for_approval"
    packet = _json(onboard_cli(["status", waiting["thread_id"], "--json", "--packet"], home))
    assert packet["entity"] == "transaction"
    assert "def transform" in packet["script"]
    assert len(packet["script_sha256"]) == 64


def test_second_file_reuses_approved_format(home):
    first = _json(onboard_cli(["run", str(SAMPLE), "--json", "--client", "Northwind"], home))
    onboard_cli(["approve", first["thread_id"], "--by", "Dana Reviewer"], home)

    second = onboard_cli(["run", str(SAMPLE_NEXT_MONTH), "--json", "--client", "Northwind"], home)
    assert second.returncode == 0, second.stderr
    result = _json(second)
    assert result["status"] == "loaded"
    assert result["reused_format"].startswith("fmt-")
    assert result["rows_loaded"] == 4
    assert _rows(home, "SELECT COUNT(*) FROM audit WHERE action = 'reused'")[0][0] == 1
    listed = json.loads(onboard_cli(["formats", "list", "--json"], home).stdout)
    assert len(listed) == 1
    assert listed[0]["hash_ok"] is True


def test_reused_format_takes_each_files_own_account(home):
    first = _json(onboard_cli(["run", str(SAMPLE), "--json", "--client", "Northwind"], home))
    onboard_cli(["approve", first["thread_id"], "--by", "Dana Reviewer"], home)
    other_account = home.parent / "northwind_other_account.csv"
    other_account.write_bytes(SAMPLE_NEXT_MONTH.read_bytes().replace(b"GB33BUKB20201555555555", b"GB94BARC10201530093459"))

    result = _json(onboard_cli(["run", str(other_account), "--json", "--client", "Northwind"], home))

    assert result["status"] == "loaded"
    assert result["reused_format"].startswith("fmt-")
    accounts = _rows(home, "SELECT account_id, COUNT(*) FROM transactions GROUP BY account_id ORDER BY account_id")
    assert accounts == [("GB33BUKB20201555555555", 11), ("GB94BARC10201530093459", 4)]


def test_maker_cannot_approve_own_run(home):
    checked = {"ONBOARD_APPROVER_MUST_DIFFER": "true"}
    started = _json(onboard_cli(["run", str(SAMPLE), "--json", "--by", "maker"], home, extra_env=checked))

    own = onboard_cli(["approve", started["thread_id"], "--by", "maker", "--json"], home, extra_env=checked)
    other = onboard_cli(["approve", started["thread_id"], "--by", "checker", "--json"], home, extra_env=checked)

    assert _json(own)["status"] == "waiting_for_approval"
    assert _json(other)["status"] == "loaded"
    refused = _rows(home, "SELECT actor, detail FROM audit WHERE action = 'approval_refused'")
    assert refused[0][0] == "maker"
    assert "approver must differ" in refused[0][1]


def test_same_file_twice_loads_nothing_new(home):
    first = _json(onboard_cli(["run", str(SAMPLE), "--json"], home))
    onboard_cli(["approve", first["thread_id"], "--by", "Dana Reviewer"], home)
    before = _rows(home, "SELECT COUNT(*) FROM transactions")[0][0]

    again = _json(onboard_cli(["run", str(SAMPLE), "--json"], home))
    assert again["status"] == "loaded"
    assert again["rows_new"] == 0
    assert again["reconciled"] is True
    assert _rows(home, "SELECT COUNT(*) FROM transactions")[0][0] == before


def test_reject_comment_changes_mapping(home):
    first = _json(onboard_cli(["run", str(SAMPLE), "--json"], home))
    rejected = onboard_cli(["reject", first["thread_id"], "--comment", "booking_date = Value Date", "--by", "Dana Reviewer", "--json"], home)
    assert rejected.returncode == 10, rejected.stderr
    packet = _json(onboard_cli(["status", first["thread_id"], "--json", "--packet"], home))
    booking = next(m for m in packet["mappings"] if m["target"] == "booking_date")
    assert booking["sources"] == ["Value Date"]
    assert _rows(home, "SELECT COUNT(*) FROM audit WHERE action = 'rejected'")[0][0] == 1


def test_approve_unknown_thread_fails_cleanly(home):
    completed = onboard_cli(["approve", "run-doesnotexist", "--by", "Dana"], home)
    assert completed.returncode == 3
    assert "run-doesnotexist" in completed.stderr
    assert "Traceback" not in completed.stderr


def test_audit_trail_lists_decisions(home):
    waiting = _json(onboard_cli(["run", str(SAMPLE), "--json"], home))
    onboard_cli(["approve", waiting["thread_id"], "--by", "Dana Reviewer"], home)
    completed = onboard_cli(["audit", waiting["thread_id"], "--json"], home)
    assert completed.returncode == 0, completed.stderr
    actions = [(row["action"], row["actor"]) for row in json.loads(completed.stdout)]
    assert ("approved", "Dana Reviewer") in actions
    for action in ("received", "proposed", "reviewed", "executed", "loaded", "reconciled", "remembered"):
        assert action in [a for a, _ in actions]


def _write_review_page(home) -> tuple[dict, Path]:
    """Start a run of the sample, which waits for approval, and write its review page."""
    waiting = _json(onboard_cli(["run", str(SAMPLE), "--json"], home))
    page = home.parent / "review.html"
    completed = onboard_cli(["review", waiting["thread_id"], "--html", str(page)], home)
    assert completed.returncode == 0, completed.stderr
    return waiting, page


def test_review_page_shows_mapping(home):
    waiting, page = _write_review_page(home)
    text = page.read_text(encoding="utf-8")
    assert "<svg" in text
    assert "Txn Date" in text
    assert "booking_date" in text
    assert "NW-26-000101" in text
    assert "31/11/2026" in text
    assert waiting["thread_id"] in text


def _chromium(*args: str, profile: Path) -> subprocess.CompletedProcess:
    """Run headless Chromium with a throwaway profile and every network request sent to a closed local port."""
    command = [
        "chromium", "--headless", "--no-sandbox", "--disable-gpu", "--proxy-server=127.0.0.1:9",
        f"--user-data-dir={profile}", "--no-first-run", "--no-default-browser-check",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)


def test_review_page_in_headless_chromium(home):
    if shutil.which("chromium") is None:
        pytest.skip("chromium not installed: .ci/run installs the Debian package chromium")
    waiting, page = _write_review_page(home)
    profile = home.parent / "chromium-profile"

    dumped = _chromium("--dump-dom", page.as_uri(), profile=profile)
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    dom = lxml.html.document_fromstring(dumped.stdout)
    packet = _json(onboard_cli(["status", waiting["thread_id"], "--json", "--packet"], home))

    # The browser's DOM puts each table's rows in a tbody, hence the .// paths.
    tables = dom.xpath("//table")
    mapping = next(t for t in tables if t.xpath(".//tr[th]/th/text()")[:2] == ["target field", "source column(s)"])
    mapped = [row.xpath("./td[1]/text()")[0] for row in mapping.xpath(".//tr[td]")]
    assert mapped == [m["target"] for m in packet["mappings"]]

    lines = dom.xpath("//*[local-name()='svg']/*[local-name()='line']")
    assert len(lines) == sum(len(m["sources"]) for m in packet["mappings"])
    labels = dom.xpath("//*[local-name()='svg']/*[local-name()='text']/text()")
    assert "Txn Date" in labels
    assert "booking_date" in labels

    pairs = dom.xpath("//div[@class='pair']")
    assert len(pairs) == len(packet["preview"])
    first_source, first_converted = pairs[0].xpath("./table")
    assert ["Txn ID", "NW-26-000101"] in [row.xpath("./td/text()") for row in first_source.xpath(".//tr[td]")]
    assert ["transaction_id", "NW-26-000101"] in [row.xpath("./td/text()") for row in first_converted.xpath(".//tr[td]")]

    headings = [h.text_content() for h in dom.xpath("//h2")]
    assert "Trial: 11 of 12 rows valid" in headings
    rejected = [row.xpath("./td/text()") for row in dom.xpath("//tr[@class='bad']")]
    assert any(cells[0] == "15" and "31/11/2026" in cells[1] for cells in rejected)

    script = dom.xpath("//pre")[0].text_content()
    assert script.rstrip("\n") == packet["script"].rstrip("\n")
    # Syntax highlighting: keywords and strings carry their own inline colour.
    assert dom.xpath("//pre//span[contains(@style, 'color')]")
    assert packet["script_sha256"] in dom.xpath("//code/text()")

    screenshot = home.parent / "review.png"
    shot = _chromium(f"--screenshot={screenshot}", "--window-size=1280,2000", "--hide-scrollbars", page.as_uri(), profile=profile)
    assert shot.returncode == 0, shot.stderr[-2000:]
    header = screenshot.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", header[16:24]) == (1280, 2000)


def test_hand_written_spec_is_reviewed_and_marked(home):
    spec_path = home.parent / "spec.json"
    proposed = onboard_cli(["map", str(SAMPLE), "--json"], home)
    spec = json.loads(proposed.stdout)
    booking = next(m for m in spec["mappings"] if m["target"] == "booking_date")
    booking["sources"] = ["Value Date"]
    spec_path.write_text(json.dumps(spec), encoding="utf-8")

    added = onboard_cli(["formats", "add", str(SAMPLE), "--spec", str(spec_path), "--by", "Ops Engineer", "--json"], home)
    assert added.returncode == 10, added.stderr
    waiting = _json(added)
    packet = _json(onboard_cli(["status", waiting["thread_id"], "--json", "--packet"], home))
    assert packet["origin"] == "hand-written spec"
    assert next(m for m in packet["mappings"] if m["target"] == "booking_date")["sources"] == ["Value Date"]

    done = _json(onboard_cli(["approve", waiting["thread_id"], "--by", "Dana Reviewer", "--json"], home))
    assert done["status"] == "loaded"
    listed = json.loads(onboard_cli(["formats", "list", "--json"], home).stdout)
    assert listed[0]["origin"] == "hand-written spec"


def test_hand_written_script_goes_through_policy(home):
    script_path = home.parent / "script.py"
    script_path.write_text("import os\n\ndef transform(source):\n    return source\n", encoding="utf-8")
    added = onboard_cli(["formats", "add", str(SAMPLE), "--script", str(script_path), "--by", "Ops Engineer", "--json"], home)
    assert added.returncode == 10, added.stderr
    waiting = _json(added)
    packet = _json(onboard_cli(["status", waiting["thread_id"], "--json", "--packet"], home))
    assert packet["origin"] == "hand-written script"
    assert any("import of 'os'" in p for p in packet["problems"])


def test_script_changed_after_approval_is_refused(home):
    waiting = _json(onboard_cli(["run", str(SAMPLE), "--json"], home))
    scripts = list((home / "objects" / "runs").glob("*/scripts/*.py"))
    assert len(scripts) == 1
    scripts[0].write_text(scripts[0].read_text(encoding="utf-8") + "\n# changed after review\n", encoding="utf-8")

    approved = onboard_cli(["approve", waiting["thread_id"], "--by", "Dana Reviewer", "--json"], home)

    result = _json(approved)
    assert approved.returncode == 1
    assert result["status"] == "failed"
    assert "differs from the approved" in result["error"]
    assert _rows(home, "SELECT COUNT(*) FROM transactions")[0][0] == 0
    refused = _rows(home, "SELECT detail FROM audit WHERE action = 'execute_failed'")
    assert "HashMismatch" in refused[0][0]


def test_tampered_library_script_is_refused_and_reported(home):
    first = _json(onboard_cli(["run", str(SAMPLE), "--json", "--client", "Northwind"], home))
    onboard_cli(["approve", first["thread_id"], "--by", "Dana Reviewer"], home)
    stored = list((home / "formats" / "scripts").glob("*.py"))
    assert len(stored) == 1
    stored[0].write_text(stored[0].read_text(encoding="utf-8").replace("def transform", "def transform  ", 1), encoding="utf-8")

    listed = json.loads(onboard_cli(["formats", "list", "--json"], home).stdout)
    second = _json(onboard_cli(["run", str(SAMPLE_NEXT_MONTH), "--json", "--client", "Northwind"], home))

    assert listed[0]["hash_ok"] is False
    assert second["status"] == "waiting_for_approval"
    assert not second.get("reused_format")
    refused = _rows(home, "SELECT detail FROM audit WHERE action = 'format_refused'")
    assert "no longer matches its approved SHA-256" in refused[0][0]


def test_edited_spec_is_recompiled_and_reviewed(home):
    waiting = _json(onboard_cli(["run", str(SAMPLE), "--json"], home))
    packet = json.loads(onboard_cli(["status", waiting["thread_id"], "--packet", "--json"], home).stdout)
    spec = packet["spec"]
    spec["mappings"] = [m for m in spec["mappings"] if m["target"] != "reference"]
    edited = home.parent / "edited_spec.json"
    edited.write_text(json.dumps(spec), encoding="utf-8")

    answered = _json(onboard_cli(["edit", waiting["thread_id"], "--spec", str(edited), "--by", "Dana Reviewer", "--json"], home))
    again = json.loads(onboard_cli(["status", waiting["thread_id"], "--packet", "--json"], home).stdout)
    loaded = _json(onboard_cli(["approve", waiting["thread_id"], "--by", "Dana Reviewer", "--json"], home))

    assert answered["status"] == "waiting_for_approval"
    assert "reference" not in [m["target"] for m in again["mappings"]]
    assert again["script_sha256"] != packet["script_sha256"]
    assert loaded["status"] == "loaded"
    assert _rows(home, "SELECT COUNT(*) FROM transactions WHERE reference IS NOT NULL")[0][0] == 0
    actions = [a for (a,) in _rows(home, "SELECT action FROM audit WHERE thread_id = ? ORDER BY id", waiting["thread_id"])]
    assert "reviewed" in actions[actions.index("edited"):], "the edited spec is reviewed again"
