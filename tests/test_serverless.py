"""The functions behind the agents' tools: Lambda semantics of the local invoker, chunked
reading, fan-out over chunks, and the run's trace of tool calls."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langgraph.types import Command

from onboard import reader
from onboard.errors import OnboardError
from serverless.events import FUNCTIONS
from serverless.invoker import FunctionError, invoke
from tests.conftest import REALDATA, SAMPLES

NORTHWIND = SAMPLES / "northwind_2026-11.csv"


def _northwind_rows(path: Path, rows: int) -> Path:
    lines = NORTHWIND.read_text(encoding="utf-8").splitlines()
    header_at = next(i for i, line in enumerate(lines) if line.startswith("Txn Date"))
    body = []
    for number in range(rows):
        body.append(f"0{1 + number % 9}/11/2026;0{1 + number % 9}/11/2026;NW-X-{number:07d};Contoso Ltd;Invoice {number};1,{number % 1000:03d}.25;DR;GBP;10.00;REF-{number}")
    path.write_text("\n".join(lines[: header_at + 1] + body) + "\n", encoding="utf-8")
    return path


# The local invoker keeps Lambda's contract ------------------------------------------------

def test_handler_error_lambda_shape(home):
    with pytest.raises(FunctionError) as raised:
        invoke("compile_spec", {"run_id": "r1", "spec": {"entity": "transaction", "mappings": "not a list"}})
    assert raised.value.function == "compile_spec"
    assert raised.value.error_type == "ValidationError"
    assert "mappings" in raised.value.error_message
    assert raised.value.stack_trace, "Lambda reports the stack trace of an unhandled error"


def test_event_unknown_field_rejected(home):
    with pytest.raises(FunctionError) as raised:
        invoke("notify", {"recipient": "ops", "subject": "s", "body": "b", "recipeint": "typo"})
    assert raised.value.error_type == "ValidationError"
    assert "recipeint" in raised.value.error_message


def test_bad_input_file_user_error(home, tmp_path):
    with pytest.raises(OnboardError, match="file not found"):
        invoke("ingest", {"run_id": "r1", "path": str(tmp_path / "missing.csv")})


def test_payload_over_limit_rejected(home):
    with pytest.raises(FunctionError) as raised:
        invoke("notify", {"recipient": "ops", "subject": "s", "body": "x" * (7 << 20)})
    assert raised.value.error_type == "RequestEntityTooLargeException"


def test_timeout_kills_worker_then_recovers(home, tmp_path, monkeypatch):
    data = _northwind_rows(tmp_path / "big.csv", 30_000)
    monkeypatch.setenv("ONBOARD_FUNCTION_TIMEOUT_S", "0.05")
    with pytest.raises(FunctionError) as raised:
        invoke("ingest", {"run_id": "r-timeout", "path": str(data)})
    assert raised.value.error_type == "Sandbox.Timedout"
    assert "timed out after 0.05 seconds" in raised.value.error_message
    monkeypatch.delenv("ONBOARD_FUNCTION_TIMEOUT_S")
    result = invoke("ingest", {"run_id": "r-after", "path": str(data)})
    assert result["rows_read"] == 30_000


def test_memory_over_limit_out_of_memory(home, tmp_path, monkeypatch):
    data = _northwind_rows(tmp_path / "big.csv", 30_000)
    # Below what any worker with pandas loaded uses, so the limit is certain to be crossed.
    monkeypatch.setenv("ONBOARD_FUNCTION_MEMORY_MB", "40")
    with pytest.raises(FunctionError) as raised:
        invoke("ingest", {"run_id": "r-oom", "path": str(data)})
    assert raised.value.error_type == "Runtime.OutOfMemory"


def test_every_function_has_event_model():
    import importlib

    for name, config in FUNCTIONS.items():
        module = importlib.import_module(f"serverless.functions.{name}")
        assert callable(module.handler)
        assert config.event.model_json_schema()["properties"], name


def test_handlers_import_no_agent_libraries():
    import subprocess
    import sys

    code = (
        "import sys\n"
        + "".join(f"import serverless.functions.{name}\n" for name in FUNCTIONS)
        + "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('langgraph', 'langchain_core', 'langchain_openai', 'openai', 'langchain'))\n"
        + "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[1], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


# Chunked reading gives the same table as reading the whole file ---------------------------

def _csv_files() -> list[Path]:
    files = [NORTHWIND, SAMPLES / "northwind_2026-12.csv"]
    if REALDATA.exists():
        files += sorted(REALDATA.glob("csv_*/*.csv"))[:30]
    return files


@pytest.mark.parametrize("path", _csv_files(), ids=lambda p: p.parent.name + "/" + p.name)
def test_streamed_read_equals_whole_read(path, monkeypatch):
    monkeypatch.setattr(reader, "STREAM_MIN_BYTES", 0)
    try:
        whole = reader.read_table(path)
    except OnboardError:
        pytest.skip("the whole-file reader refuses this file; the refusal is tested elsewhere")
    streamed = reader.stream_table(path, None, chunk_rows=3)
    assert streamed is not None
    parts = list(streamed.chunks)
    assert all(len(p.frame) <= 3 for p in parts)
    frame = pd.concat([p.frame for p in parts], ignore_index=True)
    assert frame.equals(whole.frame.reset_index(drop=True))
    assert [line for p in parts for line in p.line_numbers] == whole.line_numbers
    assert [bad for p in parts for bad in p.bad_rows] == whole.bad_rows
    assert streamed.source == whole.source


def test_streamed_bad_byte_names_line(tmp_path, monkeypatch):
    monkeypatch.setattr(reader, "STREAM_MIN_BYTES", 0)
    monkeypatch.setattr(reader, "STREAM_HEAD_BYTES", 4096)
    path = _northwind_rows(tmp_path / "late.csv", 2000)
    raw = path.read_bytes()
    path.write_bytes(raw[:-40] + b"\xff\xfe" + raw[-38:])
    streamed = reader.stream_table(path, "late.csv", chunk_rows=500)
    with pytest.raises(OnboardError, match=r"late\.csv: is not valid utf-8 after line \d+"):
        list(streamed.chunks)


# Fan-out: a run over many chunks loads what a one-chunk run loads --------------------------

class ToolCalls(BaseCallbackHandler):
    def __init__(self):
        self.names: list[str] = []

    def on_tool_start(self, serialized, input_str, **kwargs):
        self.names.append(serialized.get("name"))


def test_chunked_run_loads_and_traces_tools(home, monkeypatch):
    from graph.runner import _config, open_graph

    monkeypatch.setenv("ONBOARD_CHUNK_ROWS", "4")
    monkeypatch.setenv("ONBOARD_MAX_WORKERS", "2")
    calls = ToolCalls()
    with open_graph() as graph:
        config = {**_config("fan-out"), "callbacks": [calls]}
        graph.invoke({"file_path": str(NORTHWIND), "entity": "auto", "client": "northwind", "defaults": {}, "started_by": "maker"}, config)
        assert graph.get_state(config).next == ("approval",)
        graph.invoke(Command(resume={"action": "approve", "by": "checker"}), config)
        state = graph.get_state(config).values

    assert state["status"] == "loaded", state.get("error")
    assert len(state["ingest"]["chunk_keys"]) == 3
    assert state["execution"]["run"]["chunks"] == 3
    assert set(calls.names) == set(FUNCTIONS), f"tools called: {calls.names}"
    assert calls.names.count("run_script") == 1 + 3, "one trial and one run per chunk"

    database = Path(home) / "core_banking.sqlite"
    with sqlite3.connect(database) as connection:
        rows = connection.execute("SELECT source_line, amount FROM transactions ORDER BY source_line").fetchall()
        rejected = connection.execute("SELECT source_line FROM rejected_rows").fetchall()
    assert len(rows) == 11
    assert sum(Decimal(amount) for _, amount in rows) == Decimal("-2965.85")
    assert rejected == [(15,)]


def test_idle_killed_worker_replaced(home):
    import os
    import signal

    from serverless import invoker

    invoke("notify", {"recipient": "ops", "subject": "first", "body": "b"})
    for worker in list(invoker._POOL.idle):
        os.kill(worker.process.pid, signal.SIGKILL)
        # Reaped by someone else, as a subreaper does: multiprocessing still calls it alive.
        os.waitpid(worker.process.pid, 0)
    assert invoke("notify", {"recipient": "ops", "subject": "second", "body": "b"})["queued"] is True


def test_check_reads_large_file_head(tmp_path, monkeypatch):
    monkeypatch.setattr(reader, "STREAM_MIN_BYTES", 0)
    monkeypatch.setattr(reader, "STREAM_HEAD_BYTES", 4096)
    path = _northwind_rows(tmp_path / "large.csv", 5000)
    raw = path.read_bytes()
    # A bad byte far past the head: the quick check passes, and the full read names it.
    path.write_bytes(raw[:-40] + b"\xff" + raw[-39:])

    reader.check_readable(path, "large.csv")

    with pytest.raises(OnboardError, match="large.csv"):
        list(reader.stream_table(path, "large.csv", 1000).chunks)
    with pytest.raises(OnboardError, match="file not found"):
        reader.check_readable(tmp_path / "missing.csv", "missing.csv")
