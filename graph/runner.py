"""Start, resume and inspect runs with the SQLite checkpointer, for the CLI and the tests."""

from __future__ import annotations

import sqlite3
import uuid
from contextlib import contextmanager
from typing import Any

from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.types import Command

from graph.build import build_graph
from onboard.errors import DatabaseUnavailable
from onboard.settings import load_settings


@contextmanager
def open_graph():
    settings = load_settings().ensure()
    connection = sqlite3.connect(settings.checkpoint_path, check_same_thread=False, timeout=30)
    try:
        saver = SqliteSaver(connection)
        saver.setup()
        yield build_graph(checkpointer=saver)
    finally:
        connection.close()


def _config(thread_id: str) -> dict:
    return {"configurable": {"thread_id": thread_id}, "recursion_limit": 60}


def _invoke(graph, value, thread_id: str) -> None:
    """Run the graph; a locked or full core database stops the run at its last checkpoint."""
    try:
        graph.invoke(value, _config(thread_id))
    except DatabaseUnavailable as error:
        error.thread_id = thread_id
        raise


def summarise(graph, thread_id: str) -> dict[str, Any]:
    """The run's status as one JSON-ready dict, the shape `--json` prints."""
    snapshot = graph.get_state(_config(thread_id))
    values = snapshot.values or {}
    if not values:
        return {"thread_id": thread_id, "status": "not_found"}
    interrupts = [i.value for task in snapshot.tasks for i in task.interrupts]
    status = "waiting_for_approval" if interrupts else values.get("status", "unknown")
    if status not in ("waiting_for_approval", "loaded", "failed", "cancelled") and not snapshot.next:
        status = values.get("status", "unknown")
    elif status not in ("waiting_for_approval", "loaded", "failed", "cancelled") and snapshot.next:
        status = "interrupted"
    recon = values.get("reconciliation") or {}
    load = values.get("load") or {}
    summary: dict[str, Any] = {
        "thread_id": thread_id,
        "status": status,
        "file": (values.get("ingest") or {}).get("file_name"),
        "entity": (values.get("spec") or {}).get("entity"),
        "reused_format": values.get("reused_format"),
        "error": values.get("error"),
    }
    if recon:
        summary.update({
            "rows_in": recon["rows_in"],
            "rows_loaded": recon["rows_loaded"],
            "rows_rejected": recon["rows_rejected"],
            "rows_new": load.get("rows_inserted", 0) + load.get("rows_updated", 0),
            "reconciled": recon["passed"],
            "checks": recon["checks"],
        })
    if values.get("format_entry"):
        summary["remembered_format"] = f"{values['format_entry']['format_id']} v{values['format_entry']['version']}"
    if values.get("run_id"):
        summary["run_id"] = values["run_id"]
    if values.get("approval"):
        summary["approval"] = values["approval"]
    if interrupts:
        request = interrupts[-1][0] if isinstance(interrupts[-1], list) else interrupts[-1]
        summary["review_packet"] = request["action_request"]["args"]
        summary["interrupt"] = interrupts[-1]
    return summary


def start(
    file_path: str,
    entity: str = "auto",
    client: str | None = None,
    defaults: dict[str, str] | None = None,
    started_by: str | None = None,
    hand_spec: dict | None = None,
    hand_script: str | None = None,
) -> dict:
    """Start a run; `hand_spec` or `hand_script` replace the proposal or the compiled script."""
    thread_id = f"run-{uuid.uuid4().hex[:12]}"
    run_input = {"file_path": file_path, "entity": entity, "client": client or "", "defaults": defaults or {}, "started_by": started_by or ""}
    if hand_spec:
        run_input.update(hand_spec=hand_spec, origin="hand-written spec")
    if hand_script:
        run_input.update(hand_script=hand_script, origin="hand-written script")
    with open_graph() as graph:
        _invoke(graph, run_input, thread_id)
        return summarise(graph, thread_id)


def _require_runs(thread_id: str | None = None) -> None:
    """Fail with the searched folder, without creating state, when no run was ever started there."""
    settings = load_settings()
    if not settings.checkpoint_path.exists():
        subject = f"no run with thread id {thread_id}: " if thread_id else ""
        raise LookupError(f"{subject}no runs in {settings.home}; set ONBOARD_HOME to the folder the run was started with")


def _not_found(thread_id: str) -> LookupError:
    return LookupError(f"no run with thread id {thread_id} in {load_settings().home}; `onboard runs` lists the runs there")


def _existing(graph, thread_id: str) -> dict:
    """Summarise a run, raising LookupError when the thread is unknown."""
    summary = summarise(graph, thread_id)
    if summary["status"] == "not_found":
        raise _not_found(thread_id)
    return summary


def answer(thread_id: str, response: dict) -> dict:
    """Resume a run waiting for approval with approve, reject or edit."""
    _require_runs(thread_id)
    with open_graph() as graph:
        current = _existing(graph, thread_id)
        if current["status"] != "waiting_for_approval":
            raise LookupError(f"run {thread_id} is {current['status']}, not waiting for approval")
        _invoke(graph, Command(resume=response), thread_id)
        return summarise(graph, thread_id)


def resume(thread_id: str) -> dict:
    """Continue a run that stopped mid-way (a killed process) from its last checkpoint."""
    _require_runs(thread_id)
    with open_graph() as graph:
        current = _existing(graph, thread_id)
        if current["status"] == "waiting_for_approval":
            return current
        snapshot = graph.get_state(_config(thread_id))
        if snapshot.next:
            _invoke(graph, None, thread_id)
        return summarise(graph, thread_id)


def status(thread_id: str) -> dict:
    _require_runs(thread_id)
    with open_graph() as graph:
        return _existing(graph, thread_id)


def list_runs(limit: int = 50) -> list[dict]:
    """Return the most recent runs, newest first, with their status."""
    _require_runs()
    settings = load_settings()
    connection = sqlite3.connect(settings.checkpoint_path)
    try:
        threads = [row[0] for row in connection.execute(
            "SELECT thread_id FROM checkpoints GROUP BY thread_id ORDER BY MAX(rowid) DESC LIMIT ?", (limit,)
        )]
    finally:
        connection.close()
    with open_graph() as graph:
        return [summarise(graph, thread) for thread in threads]


def values(thread_id: str) -> dict:
    """Return the run's full state, for the eval harness and debugging."""
    with open_graph() as graph:
        return dict(graph.get_state(_config(thread_id)).values or {})
