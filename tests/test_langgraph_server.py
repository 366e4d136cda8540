"""The graph behind `langgraph dev`: Studio's input form, and approvals resumed through the server API.

One `langgraph dev` process on a free port of 127.0.0.1 serves the whole module. Its state
folder and ONBOARD_HOME are temporary, and the test reads the core SQLite database directly.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from conftest import PROJECT, SAMPLES

SAMPLE = (SAMPLES / "northwind_2026-11.csv").resolve()
GRAPH_ID = "onboarding"
STARTUP_TIMEOUT_S = 60
FORM_FIELDS = {"file_path", "object_key", "entity", "client", "started_by", "client_contact"}


def test_input_schema_is_the_start_form():
    from graph.build import graph

    schema = graph.get_input_jsonschema()
    assert set(schema["properties"]) == FORM_FIELDS
    assert schema["properties"]["entity"]["default"] == "auto"
    assert set(schema["properties"]["entity"]["enum"]) == {"auto", "customer", "account", "transaction"}
    assert schema.get("required", []) == []


@pytest.mark.parametrize(("run_input", "expected"), [
    ({"client": "Northwind"}, "neither file_path nor object_key"),
    ({"file_path": str(SAMPLE), "object_key": "runs/x/source/a.csv"}, "both file_path and object_key"),
    ({"file_path": str(SAMPLE), "entity": "loan"}, "entity 'loan' is not one of auto, customer, account, transaction"),
])
def test_graph_rejects_unusable_input(home, run_input, expected):
    from graph.build import graph

    state = graph.invoke(run_input)
    assert state["status"] == "failed"
    assert expected in state["error"]
    assert "ingest" not in state
    assert not home.exists()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _server_config(folder: Path) -> Path:
    """Copy the project's langgraph.json with absolute paths into `folder`.

    The dev server keeps its own state in `.langgraph_api` under its working directory, so it
    runs in a temporary folder, and the shipped config's relative paths are made absolute.
    """
    config = json.loads((PROJECT / "langgraph.json").read_text(encoding="utf-8"))
    config["dependencies"] = [str((PROJECT / d).resolve()) for d in config["dependencies"]]
    config["graphs"] = {name: str(PROJECT / spec.removeprefix("./")) for name, spec in config["graphs"].items()}
    path = folder / "langgraph.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    executable = shutil.which("langgraph", path=str(Path(sys.executable).parent))
    if executable is None:
        pytest.skip("langgraph CLI not installed: pip install -e '.[test]' installs langgraph-cli[inmem]")
    folder = tmp_path_factory.mktemp("langgraph-dev")
    home = folder / "home"
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONBOARD_")}
    env.update({
        "ONBOARD_HOME": str(home),
        "LANGGRAPH_CLI_NO_ANALYTICS": "1",
        "LANGSMITH_TRACING": "false",
        "PYTHONPATH": os.pathsep.join([str(PROJECT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        # The same fence as the other tests: an AWS client that is not pointed at moto fails at once.
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
    })
    stderr_path = folder / "server.stderr"
    command = [executable, "dev", "--config", str(_server_config(folder)), "--host", "127.0.0.1", "--port", str(port), "--no-browser", "--no-reload"]
    with open(stderr_path, "wb") as stderr, open(folder / "server.stdout", "wb") as stdout:
        # A new session, so teardown can stop the server and the worker processes it starts.
        process = subprocess.Popen(command, cwd=folder, env=env, stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_ready(process, url, stderr_path)
        yield {"url": url, "home": home}
    finally:
        _stop(process)


def _wait_until_ready(process: subprocess.Popen, url: str, stderr_path: Path) -> None:
    """Poll the server's health endpoint; fail with its stderr if it exits or never answers."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while True:
        if process.poll() is not None:
            pytest.fail(f"langgraph dev exited with code {process.returncode} before answering; stderr:\n{stderr_path.read_text(errors='replace')[-4000:]}")
        try:
            if httpx.get(f"{url}/ok", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"langgraph dev did not answer on {url} within {STARTUP_TIMEOUT_S} s; stderr:\n{stderr_path.read_text(errors='replace')[-4000:]}")
        time.sleep(0.25)


def _stop(process: subprocess.Popen) -> None:
    """Stop the server's process group: SIGTERM, then SIGKILL after 15 s."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)
    except ProcessLookupError:
        pass


@pytest.fixture(scope="module")
def client(server):
    from langgraph_sdk import get_sync_client

    return get_sync_client(url=server["url"])


def _rows(home: Path, sql: str, *params):
    with sqlite3.connect(home / "core_banking.sqlite") as connection:
        return connection.execute(sql, params).fetchall()


def _request(state: dict) -> dict:
    """Return the one human-interrupt request of a thread waiting for approval."""
    interrupts = state["interrupts"]
    assert len(interrupts) == 1, interrupts
    value = interrupts[0]["value"]
    assert isinstance(value, list)
    assert len(value) == 1
    return value[0]


def _start_waiting(client, label: str) -> dict:
    thread = client.threads.create(metadata={"test": label})
    client.runs.wait(thread["thread_id"], GRAPH_ID, input={"file_path": str(SAMPLE), "client": "Northwind", "started_by": "Maker Person"})
    state = client.threads.get_state(thread["thread_id"])
    assert state["next"] == ["approval"], state["values"].get("error")
    return {"thread_id": thread["thread_id"], "state": state, "request": _request(state)}


@pytest.fixture(scope="module")
def waiting(client):
    """Three runs of the sample, all waiting for approval before any is answered.

    Started first, because once one run is approved its format is remembered and a later run
    of the same file would reuse it without stopping for approval.
    """
    return {label: _start_waiting(client, label) for label in ("accept", "reject", "edit")}


def test_server_form_schema(client):
    assistant = client.assistants.search(graph_id=GRAPH_ID)[0]
    schemas = client.assistants.get_schemas(assistant["assistant_id"])
    assert set(schemas["input_schema"]["properties"]) == FORM_FIELDS


def test_interrupt_is_human_interrupt(waiting):
    request = waiting["accept"]["request"]
    assert request["action_request"]["action"] == "approve_transformation"
    assert request["config"] == {"allow_accept": True, "allow_edit": True, "allow_respond": True, "allow_ignore": True}
    assert "northwind_2026-11.csv" in request["description"]
    packet = request["action_request"]["args"]
    assert packet["thread_id"] == waiting["accept"]["thread_id"]
    assert packet["file"] == "northwind_2026-11.csv"
    assert packet["rows"] == 12
    assert packet["entity"] == "transaction"
    assert "def transform" in packet["script"]
    assert len(packet["script_sha256"]) == 64
    assert {m["target"] for m in packet["mappings"]} >= {"transaction_id", "booking_date", "amount", "currency"}
    assert packet["validation"]["rows_in"] == 12
    assert packet["preview"]


def test_accept_loads_rows(client, server, waiting):
    thread_id = waiting["accept"]["thread_id"]
    assert _rows(server["home"], "SELECT COUNT(*) FROM loads WHERE thread_id = ?", thread_id) == [(0,)]

    client.runs.wait(thread_id, GRAPH_ID, command={"resume": [{"type": "accept", "args": {"by": "Dana Reviewer"}}]})

    values = client.threads.get_state(thread_id)["values"]
    assert values["status"] == "loaded", values.get("error")
    assert values["reconciliation"]["passed"] is True
    loads = _rows(server["home"], "SELECT rows_in, rows_inserted, rows_rejected FROM loads WHERE thread_id = ?", thread_id)
    assert loads == [(12, 11, 1)]
    fee = _rows(server["home"], "SELECT amount, currency FROM transactions WHERE transaction_id = 'NW-26-000102'")
    assert fee == [("-312.45", "GBP")]
    approved = _rows(server["home"], "SELECT actor FROM audit WHERE thread_id = ? AND action = 'approved'", thread_id)
    assert approved == [("Dana Reviewer",)]
    actions = [a for (a,) in _rows(server["home"], "SELECT action FROM audit WHERE thread_id = ? ORDER BY id", thread_id)]
    assert actions.index("approved") < actions.index("loaded") < actions.index("reconciled")


def test_reject_sends_comment_to_analyst(client, server, waiting):
    thread_id = waiting["reject"]["thread_id"]
    first = waiting["reject"]["request"]["action_request"]["args"]
    assert next(m for m in first["mappings"] if m["target"] == "booking_date")["sources"] == ["Txn Date"]
    comment = "booking_date = Value Date"

    client.runs.wait(thread_id, GRAPH_ID, command={"resume": [{"type": "response", "args": {"comment": comment, "by": "Dana Reviewer"}}]})

    state = client.threads.get_state(thread_id)
    assert state["next"] == ["approval"]
    assert state["values"]["status"] == "rejected"
    feedback = state["values"]["feedback"]
    assert feedback[-1]["comment"] == comment
    assert feedback[-1]["from"] == "Dana Reviewer"
    packet = _request(state)["action_request"]["args"]
    assert packet["feedback"][-1]["comment"] == comment
    assert next(m for m in packet["mappings"] if m["target"] == "booking_date")["sources"] == ["Value Date"]
    assert _rows(server["home"], "SELECT COUNT(*) FROM loads WHERE thread_id = ?", thread_id) == [(0,)]
    rejected = _rows(server["home"], "SELECT actor, detail FROM audit WHERE thread_id = ? AND action = 'rejected'", thread_id)
    assert len(rejected) == 1
    assert rejected[0][0] == "Dana Reviewer"
    assert json.loads(rejected[0][1])["comment"] == comment


def test_edit_recompiles_and_reviews(client, server, waiting):
    thread_id = waiting["edit"]["thread_id"]
    before = waiting["edit"]["request"]["action_request"]["args"]
    spec = json.loads(json.dumps(before["spec"]))
    booking = next(m for m in spec["mappings"] if m["target"] == "booking_date")
    booking["sources"] = ["Value Date"]
    reviews_before = _rows(server["home"], "SELECT COUNT(*) FROM audit WHERE thread_id = ? AND action = 'reviewed'", thread_id)[0][0]

    edit = {"type": "edit", "args": {"action": "approve_transformation", "args": {"spec": spec, "by": "Dana Reviewer"}}}
    client.runs.wait(thread_id, GRAPH_ID, command={"resume": [edit]})

    state = client.threads.get_state(thread_id)
    assert state["next"] == ["approval"]
    values = state["values"]
    assert next(m for m in values["spec"]["mappings"] if m["target"] == "booking_date")["sources"] == ["Value Date"]
    packet = _request(state)["action_request"]["args"]
    assert next(m for m in packet["mappings"] if m["target"] == "booking_date")["sources"] == ["Value Date"]
    assert packet["script_sha256"] != before["script_sha256"]
    assert values["compiled"]["script_sha256"] == packet["script_sha256"]
    assert _rows(server["home"], "SELECT COUNT(*) FROM loads WHERE thread_id = ?", thread_id) == [(0,)]
    assert _rows(server["home"], "SELECT actor FROM audit WHERE thread_id = ? AND action = 'edited'", thread_id) == [("Dana Reviewer",)]
    reviews_after = _rows(server["home"], "SELECT COUNT(*) FROM audit WHERE thread_id = ? AND action = 'reviewed'", thread_id)[0][0]
    assert reviews_after == reviews_before + 1
