"""Checkpoints in PostgreSQL (ONBOARD_CHECKPOINT_URL): a run waits there and another process resumes it.

Needs a PostgreSQL server: ONBOARD_TEST_POSTGRES_URL is its URL (`.ci/start-postgres` starts
one on 127.0.0.1 and prints it). Each test works in a schema of its own, dropped afterwards.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import SAMPLES, onboard_cli
from core_databases import fresh_postgres_schema

SAMPLE = (SAMPLES / "northwind_2026-11.csv").resolve()


def _json(completed) -> dict:
    assert completed.stdout.strip(), f"no output; stderr: {completed.stderr}"
    return json.loads(completed.stdout.strip().splitlines()[-1])


@pytest.fixture
def checkpoint_url():
    """Return a URL whose search_path is a fresh schema, so runs of other tests never collide."""
    with fresh_postgres_schema() as (url, _):
        yield url


def _checkpointed_threads(url: str) -> set[str]:
    import psycopg

    with psycopg.connect(url) as connection:
        return {row[0] for row in connection.execute("SELECT DISTINCT thread_id FROM checkpoints")}


def test_run_waits_in_postgres_and_cli_approves(home, monkeypatch, checkpoint_url):
    from graph import runner

    monkeypatch.setenv("ONBOARD_CHECKPOINT_URL", checkpoint_url)
    waiting = runner.start(str(SAMPLE), client="Northwind", started_by="Maker Person")
    assert waiting["status"] == "waiting_for_approval"
    thread_id = waiting["thread_id"]
    assert thread_id in _checkpointed_threads(checkpoint_url)
    assert not (home / "checkpoints.sqlite").exists()

    settings = {"ONBOARD_CHECKPOINT_URL": checkpoint_url}
    approved = onboard_cli(["approve", thread_id, "--by", "Dana Reviewer", "--json"], home, extra_env=settings)
    assert approved.returncode == 0, approved.stderr
    done = _json(approved)
    assert done["status"] == "loaded"
    assert done["rows_loaded"] == 11
    assert done["rows_rejected"] == 1
    assert not (home / "checkpoints.sqlite").exists()
    with sqlite3.connect(home / "core_banking.sqlite") as connection:
        assert connection.execute("SELECT rows_in, rows_inserted FROM loads WHERE thread_id = ?", (thread_id,)).fetchall() == [(12, 11)]
        assert connection.execute("SELECT actor FROM audit WHERE thread_id = ? AND action = 'approved'", (thread_id,)).fetchall() == [("Dana Reviewer",)]

    listed = onboard_cli(["runs", "--json"], home, extra_env=settings)
    assert listed.returncode == 0, listed.stderr
    assert [(r["thread_id"], r["status"]) for r in json.loads(listed.stdout)] == [(thread_id, "loaded")]

    packet = onboard_cli(["status", thread_id, "--packet", "--json"], home, extra_env=settings)
    assert packet.returncode == 0, packet.stderr
    last = _json(packet)
    assert last["status"] == "loaded"
    assert last["waiting"] is False
    assert last["thread_id"] == thread_id
    assert "def transform" in last["script"]


def test_checkpoint_url_not_postgres(home):
    completed = onboard_cli(["runs"], home, extra_env={"ONBOARD_CHECKPOINT_URL": "mysql://onboard@127.0.0.1/onboard"})
    assert completed.returncode == 2
    assert "ONBOARD_CHECKPOINT_URL" in completed.stderr
    assert "postgresql://" in completed.stderr
    assert "Traceback" not in completed.stderr


def test_checkpoint_database_unreachable(home):
    # Port 9 (discard) on this machine has no PostgreSQL, so the connection is refused.
    url = "postgresql://onboard:secret-password@127.0.0.1:9/onboard?connect_timeout=2"
    completed = onboard_cli(["status", "run-123", "--json"], home, extra_env={"ONBOARD_CHECKPOINT_URL": url})
    assert completed.returncode == 2
    assert "cannot connect to the checkpoint database" in completed.stderr
    assert "secret-password" not in completed.stderr
    assert "Traceback" not in completed.stderr


def test_concurrent_setup_of_empty_schema(home, checkpoint_url):
    # Without serialised setup, processes creating the checkpoint tables at once fail on
    # duplicate keys in the catalog or the migrations table.
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONBOARD_")}
    env.update({"ONBOARD_HOME": str(home), "ONBOARD_CHECKPOINT_URL": checkpoint_url})
    executable = shutil.which("onboard", path=str(Path(sys.executable).parent)) or "onboard"
    processes = [
        subprocess.Popen([executable, "runs", "--json"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
        for _ in range(3)
    ]
    for process in processes:
        stdout, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr
        assert json.loads(stdout) == []
    assert _checkpointed_threads(checkpoint_url) == set()
