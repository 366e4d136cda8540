"""`onboard status THREAD --packet` for runs that no longer wait: the last packet with the final status."""

from __future__ import annotations

import json

from conftest import SAMPLES, onboard_cli

SAMPLE = SAMPLES / "northwind_2026-11.csv"


def _json(completed) -> dict:
    assert completed.stdout.strip(), f"no output; stderr: {completed.stderr}"
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_packet_of_loaded_run(home):
    from graph import runner

    thread_id = runner.start(str(SAMPLE.resolve()))["thread_id"]
    assert runner.answer(thread_id, {"action": "approve", "by": "Dana Reviewer"})["status"] == "loaded"

    completed = onboard_cli(["status", thread_id, "--packet", "--json"], home)
    assert completed.returncode == 0, completed.stderr
    packet = _json(completed)
    assert packet["status"] == "loaded"
    assert packet["waiting"] is False
    assert packet["thread_id"] == thread_id
    assert packet["entity"] == "transaction"
    assert len(packet["script_sha256"]) == 64

    shown = onboard_cli(["status", thread_id, "--packet"], home)
    assert shown.returncode == 0, shown.stderr
    assert "last review packet" in shown.stdout
    assert "loaded" in shown.stdout
    assert "def transform" in shown.stdout
    assert "Traceback" not in shown.stderr


def test_packet_of_rejected_run_is_new_proposal(home):
    from graph import runner

    thread_id = runner.start(str(SAMPLE.resolve()))["thread_id"]
    runner.answer(thread_id, {"action": "reject", "by": "Dana Reviewer", "comment": "booking_date = Value Date"})

    completed = onboard_cli(["status", thread_id, "--packet", "--json"], home)
    assert completed.returncode == 10
    packet = _json(completed)
    assert packet["status"] == "waiting_for_approval"
    assert packet["waiting"] is True
    assert packet["thread_id"] == thread_id
    assert packet["feedback"][-1]["comment"] == "booking_date = Value Date"


def test_packet_of_cancelled_run(home):
    from graph import runner

    waiting = runner.start(str(SAMPLE.resolve()))
    cancelled = runner.answer(waiting["thread_id"], {"type": "ignore", "by": "Dana Reviewer"})
    assert cancelled["status"] == "cancelled"

    completed = onboard_cli(["status", waiting["thread_id"], "--packet", "--json"], home)
    assert completed.returncode == 1
    packet = _json(completed)
    assert packet["status"] == "cancelled"
    assert packet["waiting"] is False
    assert packet["file"] == "northwind_2026-11.csv"


def test_packet_of_run_failed_before_review(home):
    from graph import runner

    failed = runner.start(str(home.parent / "missing.csv"))
    assert failed["status"] == "failed"

    completed = onboard_cli(["status", failed["thread_id"], "--packet", "--json"], home)
    assert completed.returncode == 1
    summary = _json(completed)
    assert summary["status"] == "failed"
    assert "missing.csv" in summary["error"]
    assert summary["note"] == "this run never stopped for approval"

    shown = onboard_cli(["status", failed["thread_id"], "--packet"], home)
    assert shown.returncode == 1
    assert "never stopped for approval" in shown.stdout
    assert "Traceback" not in shown.stderr
