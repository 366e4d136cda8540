"""Faults during a run: the process is killed, runs compete, the core database is locked or full.

Each test checks what a bank cares about afterwards: every source row is in the core database
exactly once or rejected with its reason, the control totals match, and a stopped run can be
resumed from its checkpoint. The CLI runs in separate processes and is killed with a real
SIGKILL. The step it is in is read from outside: a sandbox process below the CLI means the
execute step, and the load's lock held after the `executed` audit entry means the load.
Tests that take `core_database` run on SQLite and on PostgreSQL; the locked and full cases
are SQLite's.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import resource
import signal
import sqlite3
import subprocess
import sys
import shutil
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

from conftest import SAMPLES, onboard_cli
from tests.core_databases import CoreDatabase

SAMPLE = SAMPLES / "northwind_2026-11.csv"
APPROVER = "Dana Reviewer"
HEADER = (
    "Northwind Bank plc - statement export\nAccount;GB33BUKB20201555555555\nPeriod;01/11/2026 - 30/11/2026\n\n"
    "Txn Date;Value Date;Txn ID;Counterparty;Details;Amount;Dr/Cr;Ccy;Running Balance;Reference\n"
)
BAD_ROW = 7  # index of the row dated 31/11/2026, which the run must reject with its reason


@dataclass
class Statement:
    """A generated Northwind statement and what a correct load of it contains."""

    path: Path
    rows: int
    valid_ids: set[str]
    total: Decimal  # signed sum of the valid rows' amounts, in GBP
    sha256: str


def write_statement(path: Path, rows: int, prefix: str, seed: int = 0) -> Statement:
    """Write a statement in the layout of samples/northwind_2026-11.csv with one invalid date."""
    generator = random.Random(seed)
    lines, valid_ids, total = [HEADER], set(), Decimal("0")
    balance = Decimal("10000.00")
    for index in range(rows):
        day = 1 + index % 28
        amount = Decimal(generator.randint(1, 500_000)) / 100
        credit = generator.random() < 0.5
        signed = amount if credit else -amount
        balance += signed
        booked = "31/11/2026" if index == BAD_ROW else f"{day:02d}/11/2026"
        txn_id = f"{prefix}-{index:08d}"
        lines.append(
            f"{booked};{day:02d}/11/2026;{txn_id};Contoso Ltd;Invoice {index};{amount:,.2f};{'CR' if credit else 'DR'};GBP;{balance:,.2f};INV-{index}\n"
        )
        if index != BAD_ROW:
            valid_ids.add(txn_id)
            total += signed
    data = "".join(lines).encode("utf-8")
    path.write_bytes(data)
    return Statement(path, rows, valid_ids, total, hashlib.sha256(data).hexdigest())


# Running the CLI


def cli_environment(home: Path, **extra: str) -> dict[str, str]:
    """The environment of a user's shell: this test's home and core database, no other ONBOARD_ setting."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONBOARD_")}
    env["ONBOARD_HOME"] = str(home)
    if os.environ.get("ONBOARD_DATABASE_URL"):
        env["ONBOARD_DATABASE_URL"] = os.environ["ONBOARD_DATABASE_URL"]
    env.update(extra)
    return env


def cli_executable() -> str:
    return shutil.which("onboard", path=str(Path(sys.executable).parent)) or "onboard"


def start_cli(args: list[str], home: Path, preexec=None, **extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [cli_executable(), *args], cwd=home.parent, env=cli_environment(home, **extra), stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=preexec,
    )


def last_json(stdout: str, stderr: str = "") -> dict:
    assert stdout.strip(), f"no output; stderr: {stderr}"
    return json.loads(stdout.strip().splitlines()[-1])


def waiting_run(path: Path) -> str:
    """Start a run in this process (the `home` fixture's ONBOARD_HOME) and return its thread id."""
    from graph import runner

    started = runner.start(str(path), "auto", None, {}, "tester")
    assert started["status"] == "waiting_for_approval", started.get("error")
    return started["thread_id"]


def approve_sample_format() -> None:
    """Approve the Northwind layout once, so later files in it load without a new approval."""
    from graph import runner

    approved = runner.answer(waiting_run(SAMPLE), {"action": "approve", "by": APPROVER})
    assert approved["status"] == "loaded", approved.get("error")


def resume_run(home: Path, thread: str) -> dict:
    resumed = subprocess.run(
        [cli_executable(), "resume", thread, "--json"], cwd=home.parent, env=cli_environment(home),
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300,
    )
    assert resumed.returncode == 0, resumed.stderr
    return last_json(resumed.stdout, resumed.stderr)


def run_status(thread: str) -> str:
    from graph import runner

    return runner.status(thread)["status"]


# Watching a run from outside


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = defaultdict(list)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        children[int(fields[1])].append(int(stat.parent.name))
    found, queue = [], [pid]
    while queue:
        for child in children.get(queue.pop(), []):
            found.append(child)
            queue.append(child)
    return found


def sandbox_processes(pid: int) -> list[int]:
    """Sandbox processes below `pid` (bwrap and the fallback both start sandbox_runner.py)."""
    found = []
    for child in descendants(pid):
        try:
            if b"sandbox_runner" in Path(f"/proc/{child}/cmdline").read_bytes():
                found.append(child)
        except OSError:
            continue
    return found


def sandbox_running(pid: int) -> bool:
    return bool(sandbox_processes(pid))


def wait_until_gone(pids: list[int], timeout_s: float) -> list[int]:
    """Wait for the processes to end and return those still running after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    alive = pids
    while alive and time.monotonic() < deadline:
        time.sleep(0.1)
        alive = [pid for pid in alive if Path(f"/proc/{pid}").exists()]
    return alive


def audit_actions(db: CoreDatabase, thread: str) -> list[str]:
    return [action for (action,) in db.rows("SELECT action FROM audit WHERE thread_id = ? ORDER BY id", thread)]


def wait_for(condition, process: subprocess.Popen, timeout_s: float, description: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        if process.poll() is not None:
            out, err = process.communicate()
            pytest.fail(f"the CLI ended (status {process.returncode}) before {description}; stderr: {err[-2000:]}")
        time.sleep(0.02)
    process.kill()
    pytest.fail(f"timed out after {timeout_s} s waiting for {description}")


def kill(process: subprocess.Popen) -> None:
    os.kill(process.pid, signal.SIGKILL)
    process.communicate(timeout=30)
    assert process.returncode == -signal.SIGKILL


# What a correct end state looks like


def assert_loaded_once(db: CoreDatabase, summary: dict, statement: Statement) -> None:
    """The run loaded and reconciled, and every valid row of `statement` is in the database once."""
    assert summary["status"] == "loaded", summary.get("error")
    assert summary["reconciled"] is True
    assert summary["rows_in"] == statement.rows
    assert summary["rows_loaded"] == len(statement.valid_ids)
    assert summary["rows_rejected"] == 1
    prefix = next(iter(statement.valid_ids)).rsplit("-", 1)[0] + "-%"
    rows = db.rows("SELECT transaction_id, amount FROM transactions WHERE transaction_id LIKE ?", prefix)
    ids = [txn_id for txn_id, _ in rows]
    assert len(ids) == len(set(ids)), "a transaction is in the database more than once"
    assert set(ids) == statement.valid_ids
    assert sum(Decimal(amount) for _, amount in rows) == statement.total
    loads = db.rows("SELECT load_id FROM loads WHERE file_sha256 = ?", statement.sha256)
    assert len(loads) == 1, f"the file was loaded {len(loads)} times"
    rejected = db.rows("SELECT source_line, reason FROM rejected_rows WHERE load_id = ?", loads[0][0])
    assert len(rejected) == 1
    assert "booking_date" in rejected[0][1]


def assert_nothing_loaded(db: CoreDatabase, thread: str, statement: Statement) -> None:
    assert db.rows("SELECT COUNT(*) FROM loads WHERE thread_id = ? OR file_sha256 = ?", thread, statement.sha256) == [(0,)]
    prefix = next(iter(statement.valid_ids)).rsplit("-", 1)[0] + "-%"
    assert db.rows("SELECT COUNT(*) FROM transactions WHERE transaction_id LIKE ?", prefix) == [(0,)]
    assert "loaded" not in audit_actions(db, thread)


# Killed runs


def test_kill_during_execute_then_resume(core_database, home, tmp_path):
    db = core_database
    statement = write_statement(tmp_path / "statement.csv", 3000, "KX")
    thread = waiting_run(statement.path)

    approving = start_cli(["approve", thread, "--by", APPROVER, "--json"], home)
    wait_for(lambda: sandbox_running(approving.pid), approving, 120, "the execute step's sandbox")
    sandboxes = sandbox_processes(approving.pid)
    kill(approving)

    # bwrap dies with its parent; the fallback's process ends when its script does.
    assert wait_until_gone(sandboxes, 30) == []
    assert "approved" in audit_actions(db, thread)
    assert "executed" not in audit_actions(db, thread)
    assert_nothing_loaded(db, thread, statement)
    assert run_status(thread) == "interrupted"

    assert_loaded_once(db, resume_run(home, thread), statement)


def test_kill_during_load_then_resume(core_database, home, tmp_path):
    db = core_database
    # Large enough that the load transaction lasts well over the 0.3 s the probe needs.
    statement = write_statement(tmp_path / "statement.csv", 60000, "KL")
    thread = waiting_run(statement.path)

    approving = start_cli(["approve", thread, "--by", APPROVER, "--json"], home)
    wait_for(lambda: "executed" in audit_actions(db, thread), approving, 120, "the executed audit entry")

    def inside_load() -> bool:
        # Audit entries hold the write lock for milliseconds, the load transaction for seconds.
        if not db.load_lock_held():
            return False
        time.sleep(0.3)
        return db.load_lock_held() and "loaded" not in audit_actions(db, thread)

    wait_for(inside_load, approving, 120, "the load transaction")
    kill(approving)

    assert_nothing_loaded(db, thread, statement)
    assert run_status(thread) == "interrupted"

    assert_loaded_once(db, resume_run(home, thread), statement)


# Competing runs


def test_two_runs_same_file_load_once(core_database, home, tmp_path):
    db = core_database
    approve_sample_format()
    statement = write_statement(tmp_path / "statement.csv", 2000, "TW")

    runs = [start_cli(["run", str(statement.path), "--json"], home) for _ in range(2)]
    summaries = []
    for process in runs:
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
        summaries.append(last_json(out, err))

    assert all(s["reused_format"] for s in summaries)
    assert sorted(s["rows_new"] for s in summaries) == [0, len(statement.valid_ids)]
    for summary in summaries:
        assert_loaded_once(db, summary, statement)
    load_ids = {
        json.loads(detail)["load_id"]
        for (detail,) in db.rows("SELECT detail FROM audit WHERE action = 'loaded' AND thread_id IN (?, ?)", *(s["thread_id"] for s in summaries))
    }
    assert len(load_ids) == 1, "the second run should report the first run's load"


def assert_runs_are_separate(db: CoreDatabase, home: Path, runs: list[tuple[dict, Statement, str]]) -> None:
    """Each run's load, rows, client and audit entries belong to it and its file only."""
    all_shas = {statement.sha256 for _, statement, _ in runs}
    for summary, statement, client in runs:
        thread = summary["thread_id"]
        assert_loaded_once(db, summary, statement)
        assert summary["reused_format"]
        loads = db.rows("SELECT load_id, file_sha256, client FROM loads WHERE thread_id = ?", thread)
        assert len(loads) == 1
        load_id, file_sha, load_client = loads[0]
        assert file_sha == statement.sha256
        assert load_client == client
        loaded_ids = {txn_id for (txn_id,) in db.rows("SELECT transaction_id FROM transactions WHERE load_id = ?", load_id)}
        assert loaded_ids == statement.valid_ids
        assert db.rows("SELECT DISTINCT client FROM transactions WHERE load_id = ?", load_id) == [(client,)]

        entries = {action: json.loads(detail) for action, detail in db.rows("SELECT action, detail FROM audit WHERE thread_id = ?", thread)}
        assert entries["received"]["sha256"] == statement.sha256
        assert entries["loaded"]["load_id"] == load_id
        assert entries["reused"]["format_id"] == summary["reused_format"].split()[0]
        other_shas = all_shas - {statement.sha256}
        assert not any(sha in json.dumps(entries) for sha in other_shas)
    listed = onboard_cli(["formats", "list", "--json"], home)
    assert len(json.loads(listed.stdout)) == 1, "concurrent reuse must not add formats"


def test_ten_runs_in_threads(core_database, home, tmp_path):
    db = core_database
    from graph import runner

    approve_sample_format()
    statements = [write_statement(tmp_path / f"statement-{i}.csv", 120, f"T{i}", seed=i) for i in range(10)]

    def onboard(index: int) -> dict:
        return runner.start(str(statements[index].path), "auto", f"client-{index}", {}, "tester")

    with ThreadPoolExecutor(max_workers=10) as pool:
        summaries = list(pool.map(onboard, range(10)))

    assert_runs_are_separate(db, home, [(summaries[i], statements[i], f"client-{i}") for i in range(10)])


def test_ten_runs_in_processes(core_database, home, tmp_path):
    db = core_database
    approve_sample_format()
    statements = [write_statement(tmp_path / f"statement-{i}.csv", 120, f"P{i}", seed=i) for i in range(10)]

    processes = [start_cli(["run", str(s.path), "--json", "--client", f"client-{i}"], home) for i, s in enumerate(statements)]
    summaries = []
    for process in processes:
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
        summaries.append(last_json(out, err))

    assert_runs_are_separate(db, home, [(summaries[i], statements[i], f"client-{i}") for i in range(10)])


# The core database cannot be written


def test_locked_database_fails_then_resumes(home, tmp_path):
    db = CoreDatabase("sqlite")
    statement = write_statement(tmp_path / "statement.csv", 2000, "LK")
    thread = waiting_run(statement.path)

    approving = start_cli(["approve", thread, "--by", APPROVER, "--json"], home, ONBOARD_DATABASE_BUSY_TIMEOUT_S="1")
    wait_for(lambda: sandbox_running(approving.pid), approving, 120, "the execute step's sandbox")
    locker = sqlite3.connect(home / "core_banking.sqlite", isolation_level=None)
    try:
        locker.execute("BEGIN EXCLUSIVE")
        out, err = approving.communicate(timeout=120)
        assert approving.returncode == 1, err
        assert "is locked by another connection" in err
        assert f"onboard resume {thread}" in err
        assert "Traceback" not in err
    finally:
        locker.execute("ROLLBACK")
        locker.close()

    assert_nothing_loaded(db, thread, statement)
    assert run_status(thread) == "interrupted"

    assert_loaded_once(db, resume_run(home, thread), statement)


def test_full_database_rolls_back_then_resumes(home, tmp_path):
    db = CoreDatabase("sqlite")
    statement = write_statement(tmp_path / "statement.csv", 3000, "FL")
    thread = waiting_run(statement.path)
    # About 1 MiB of rows must go into the database, while the run's other files (Parquet
    # tables, checkpoints) stay below 512 KiB. Python ignores SIGXFSZ, so write() fails with
    # EFBIG, which SQLite reports as SQLITE_FULL or, for a write that fails outright, as
    # SQLITE_IOERR_WRITE.
    limit = 512 << 10

    def limit_file_size() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))

    approving = start_cli(["approve", thread, "--by", APPROVER, "--json"], home, preexec=limit_file_size)
    out, err = approving.communicate(timeout=300)
    assert approving.returncode == 1, err
    assert "is full" in err or "could not be written" in err
    assert f"onboard resume {thread}" in err
    assert "Traceback" not in err
    assert "executed" in audit_actions(db, thread)

    assert_nothing_loaded(db, thread, statement)
    assert run_status(thread) == "interrupted"

    assert_loaded_once(db, resume_run(home, thread), statement)
