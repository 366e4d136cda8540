"""The E2B sandbox backend against a local stand-in for E2B's HTTP API (tests/e2b_standin.py).

The stand-in runs the uploaded job in a real separate Python process, so each test is a full
round trip through the SDK. The backend creates a sandbox, uploads the script, input and runner,
runs the harness cell, downloads result.json and output.parquet and kills the sandbox. Nothing
here reaches the live E2B service.
"""

from __future__ import annotations

import pandas as pd
import pyarrow.parquet as pq
import pytest

from serverless.sandbox import run_script

TABLE = pd.DataFrame({"Bedrag": ["1.234,50", "-2,00", "abc"], "Naam": ["Jan", "Piet", "Klaas"]}, dtype=object)
LINES = [2, 3, 4]
SCRIPT = """import pandas as pd
from onboard import transforms as t


def transform(source):
    errors = t.RowErrors(source.index)
    out = pd.DataFrame(index=source.index)
    out["amount"] = t.parse_decimal(source["Bedrag"], "amount", errors, decimal=",", thousands=".")
    out["counterparty_name"] = t.copy(source["Naam"], "counterparty_name", errors)
    out["_errors"] = errors.column()
    print("converted", len(out), "rows")
    return out
"""


def run(script: str, **options):
    """Run on the e2b backend unless `backend` says otherwise (CI exports ONBOARD_SANDBOX_BACKEND=bwrap)."""
    options.setdefault("backend", "e2b")
    return run_script(script, TABLE, LINES, timeout_s=options.pop("timeout_s", 20), memory_mb=1024, **options)


def test_round_trip_matches_local_backend(e2b_standin, tmp_path):
    remote = run(SCRIPT, keep_output=tmp_path / "remote.parquet")
    assert remote.status == "ok", remote
    assert remote.backend == "e2b"
    assert remote.rows == 3
    assert "converted 3 rows" in remote.stdout
    assert remote.peak_memory_mb > 0
    assert any("E2B" in line for line in remote.isolation)

    local = run(SCRIPT, backend="process", keep_output=tmp_path / "local.parquet")
    assert local.status == "ok", local
    remote_rows = pq.read_table(remote.output_path).to_pylist()
    assert remote_rows == pq.read_table(local.output_path).to_pylist()
    assert remote_rows[0] == {"_line": 2, "amount": "1234.50", "counterparty_name": "Jan", "_errors": None}
    assert remote_rows[2]["amount"] is None
    assert "abc" in remote_rows[2]["_errors"]

    # What went over the wire: one sandbox, created without internet, with the job's files, and killed.
    assert len(e2b_standin.created) == 1
    assert e2b_standin.created[0]["allow_internet_access"] is False
    uploaded = {path.split("/", 1)[1] for path in e2b_standin.uploaded}
    assert {"input.parquet", "script.py", "sandbox_runner.py", "lib/onboard/transforms.py", "lib/onboard/values.py"} <= uploaded
    assert len(e2b_standin.executed) == 1
    assert e2b_standin.killed
    assert not e2b_standin.sandboxes


def test_auto_chooses_e2b_only_with_a_key(e2b_standin, monkeypatch):
    monkeypatch.setenv("ONBOARD_SANDBOX_BACKEND", "auto")
    assert run(SCRIPT, backend=None).backend == "e2b"
    monkeypatch.delenv("E2B_API_KEY")
    without_key = run(SCRIPT, backend=None)
    assert without_key.status == "ok"
    assert without_key.backend in ("bwrap", "process")
    assert len(e2b_standin.created) == 1
    explicit = run(SCRIPT, backend="e2b")
    assert (explicit.status, explicit.error_name) == ("error", "SandboxSetupError")
    assert "E2B_API_KEY" in explicit.message


def test_script_error_is_error_result(e2b_standin):
    script = "def transform(source):\n    raise ValueError('column Bedrag is missing')\n"
    result = run(script)
    assert (result.status, result.error_name, result.backend) == ("error", "ValueError", "e2b")
    assert "column Bedrag is missing" in result.message
    assert "Traceback" in result.traceback
    assert e2b_standin.killed


def test_timeout_stops_the_script(e2b_standin):
    script = "def transform(source):\n    while True:\n        pass\n"
    result = run(script, timeout_s=2)
    assert (result.status, result.error_name) == ("timeout", "Timeout")
    assert result.duration_s < 15
    assert e2b_standin.killed


def test_memory_limit_applies(e2b_standin):
    script = "def transform(source):\n    block = bytearray(4 << 30)\n    return source\n"
    result = run(script)
    assert (result.status, result.error_name) == ("error", "MemoryError")
    assert "1024 MiB" in result.message


def test_foreign_index_is_rejected(e2b_standin):
    # The script rewrites the index so the output claims rows that were not in the input.
    script = "def transform(source):\n    out = source.copy()\n    out.index = out.index + 10\n    return out\n"
    result = run(script)
    assert result.status == "error"
    assert result.error_name == "ValueError"
    assert "index is not in the input" in result.message


def test_policy_checked_before_create(e2b_standin):
    result = run("import socket\ndef transform(source):\n    return source\n")
    assert result.status == "policy_violation"
    assert not e2b_standin.created


def test_wrong_key_is_a_setup_error(e2b_standin, monkeypatch):
    monkeypatch.setenv("E2B_API_KEY", "e2b_wrong")
    result = run(SCRIPT)
    assert (result.status, result.error_name, result.backend) == ("error", "SandboxSetupError", "e2b")
    assert "create the sandbox" in result.message
    assert not e2b_standin.created


def test_killed_script_is_reported_killed(e2b_standin):
    script = "import os, signal\ndef transform(source):\n    os.kill(os.getpid(), signal.SIGKILL)\n"
    result = run(script, check_policy=False)
    assert (result.status, result.error_name) == ("killed", "ProcessKilled")
    assert result.exit_status == -9
    assert result.output_path is None


def test_output_larger_than_file_limit_is_rejected(e2b_standin):
    # About 2.6 MB of hardly compressible digits per row, against a 1 MiB file-size limit.
    script = (
        "def transform(source):\n"
        "    source['big'] = ['-'.join(str((i * 7919 + row) % 1000003) for i in range(400000)) for row in range(len(source))]\n"
        "    return source\n"
    )
    result = run(script, file_size_mb=1)
    assert result.status == "error"
    assert "too large" in result.message.lower()
    assert result.output_path is None
