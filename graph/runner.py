"""Start, resume and inspect runs, for the CLI and the tests.

Checkpoints go to the SQLite file in ONBOARD_HOME, or to PostgreSQL when ONBOARD_CHECKPOINT_URL
is set, so any process with the same settings can resume a run that another process started.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import time
import uuid
from contextlib import contextmanager
from typing import Any, Iterator
from urllib.parse import urlsplit, urlunsplit

from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.types import Command

from graph.build import build_graph
from graph.state import CommandLineInput
from onboard.errors import DatabaseUnavailable, OnboardError
from onboard.settings import Settings, load_settings

POSTGRES_SCHEMES = ("postgres", "postgresql")
# Advisory lock id that serialises checkpoint table setup; any constant other code does not use.
SETUP_LOCK_KEY = 0x6F6E626F61726431
SETUP_WAIT_S = 60.0
# URLs whose checkpoint tables this process has created or migrated already.
_postgres_ready: set[str] = set()


def _redacted(url: str) -> str:
    """Return the URL with its password replaced, for error messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))

log = logging.getLogger(__name__)


@contextmanager
def _sqlite_saver(settings: Settings) -> Iterator[SqliteSaver]:
    connection = sqlite3.connect(settings.checkpoint_path, check_same_thread=False, timeout=30)
    try:
        saver = SqliteSaver(connection)
        saver.setup()
        yield saver
    finally:
        connection.close()


def _setup_postgres(connection, saver, url: str) -> None:
    """Create or migrate the checkpoint tables, one process at a time.

    Processes that set up an empty database at once would race on CREATE TABLE and the
    migrations table. A blocking pg_advisory_lock deadlocks with the migrations' CREATE INDEX
    CONCURRENTLY, which waits for the waiting session's transaction, so waiters poll instead.
    """
    deadline = time.monotonic() + SETUP_WAIT_S
    while not connection.execute("SELECT pg_try_advisory_lock(%s) AS locked", (SETUP_LOCK_KEY,)).fetchone()["locked"]:
        if time.monotonic() > deadline:
            raise OnboardError(f"timed out after {SETUP_WAIT_S:.0f} s waiting for another process to set up the checkpoint tables in {_redacted(url)}")
        time.sleep(0.1)
    try:
        saver.setup()
    finally:
        connection.execute("SELECT pg_advisory_unlock(%s)", (SETUP_LOCK_KEY,))


@contextmanager
def _postgres_saver(url: str):
    if urlsplit(url).scheme not in POSTGRES_SCHEMES:
        raise OnboardError(f"ONBOARD_CHECKPOINT_URL {_redacted(url)!r} is not a postgres:// or postgresql:// URL; unset it to keep checkpoints in the SQLite file")
    import psycopg
    from langgraph.checkpoint.postgres import PostgresSaver
    from psycopg.rows import dict_row

    try:
        # PostgresSaver needs autocommit and dict rows; prepare_threshold=0 keeps it usable behind poolers.
        connection = psycopg.Connection.connect(url, autocommit=True, prepare_threshold=0, row_factory=dict_row)
    except psycopg.OperationalError as error:
        raise OnboardError(f"cannot connect to the checkpoint database {_redacted(url)} (ONBOARD_CHECKPOINT_URL): {str(error).strip()}") from None
    with connection:
        saver = PostgresSaver(connection)
        if url not in _postgres_ready:
            _setup_postgres(connection, saver, url)
            _postgres_ready.add(url)
        yield saver


@contextmanager
def open_checkpointer(settings: Settings | None = None):
    """Open the configured checkpointer: PostgreSQL by URL, else the SQLite file in ONBOARD_HOME."""
    settings = (settings or load_settings()).ensure()
    opener = _postgres_saver(settings.checkpoint_url) if settings.checkpoint_url else _sqlite_saver(settings)
    with opener as saver:
        yield saver


@contextmanager
def open_graph():
    with open_checkpointer() as saver:
        yield build_graph(checkpointer=saver, input_schema=CommandLineInput)


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
    if values.get("client_contact"):
        summary["client_contact"] = values["client_contact"]
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
    if not settings.checkpoint_url and not settings.checkpoint_path.exists():
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


def last_review_packet(graph, thread_id: str) -> dict | None:
    """Return the review packet of the run's latest approval interrupt, or None if it never had one.

    A finished, failed or cancelled run no longer waits, so the packet comes from the newest
    checkpoint in its history that was waiting for approval.
    """
    for snapshot in graph.get_state_history(_config(thread_id)):
        interrupts = [i.value for task in snapshot.tasks for i in task.interrupts]
        if interrupts:
            request = interrupts[-1][0] if isinstance(interrupts[-1], list) else interrupts[-1]
            return request["action_request"]["args"]
    return None


def status(thread_id: str, with_last_packet: bool = False) -> dict:
    """Summarise a run; `with_last_packet` adds the last review packet of a run no longer waiting."""
    _require_runs(thread_id)
    with open_graph() as graph:
        summary = _existing(graph, thread_id)
        if with_last_packet and "review_packet" not in summary:
            summary["last_review_packet"] = last_review_packet(graph, thread_id)
        return summary


def _thread_ids(saver, limit: int) -> list[str]:
    """Return the thread ids with checkpoints, most recently written first."""
    if isinstance(saver, SqliteSaver):
        query = "SELECT thread_id FROM checkpoints GROUP BY thread_id ORDER BY MAX(rowid) DESC LIMIT ?"
        return [row[0] for row in saver.conn.execute(query, (limit,))]
    # PostgreSQL: checkpoint ids are time-ordered UUIDv6 strings, so the largest is the newest.
    query = "SELECT thread_id FROM checkpoints WHERE checkpoint_ns = '' GROUP BY thread_id ORDER BY MAX(checkpoint_id) DESC LIMIT %s"
    return [row["thread_id"] for row in saver.conn.execute(query, (limit,))]


def list_runs(limit: int = 50) -> list[dict]:
    """Return the most recent runs, newest first, with their status."""
    _require_runs()
    with open_checkpointer() as saver:
        graph = build_graph(checkpointer=saver, input_schema=CommandLineInput)
        return [summarise(graph, thread) for thread in _thread_ids(saver, limit)]


def values(thread_id: str) -> dict:
    """Return the run's full state, for the eval harness and debugging."""
    with open_graph() as graph:
        return dict(graph.get_state(_config(thread_id)).values or {})


def queue_thread_id(message: dict) -> str:
    """Derive the thread id from the uploaded object, so a message received twice continues one run."""
    identity = "\n".join(str(message.get(k) or "") for k in ("bucket", "key", "sequencer"))
    return f"run-{hashlib.sha256(identity.encode('utf-8')).hexdigest()[:12]}"


def _message_problem(message: dict, bucket: str | None) -> str | None:
    """Return why a queue message can never start a run, or None. `bucket` is ONBOARD_BUCKET on AWS."""
    if "invalid_body" in message:
        return "the message body is not a JSON object"
    required = ("bucket", "key", "client") if bucket else ("key", "client")
    missing = [k for k in required if not message.get(k)]
    if missing:
        return f"the message lacks {', '.join(missing)}"
    if bucket and message["bucket"] != bucket:
        return f"the object is in bucket {message['bucket']!r}, but ONBOARD_BUCKET is {bucket!r}"
    return None


def _object_name(message: dict) -> str:
    return f"s3://{message['bucket']}/{message['key']}" if message.get("bucket") else message["key"]


def _run_message(graph, message: dict) -> dict:
    """Start the run for one queued object, or continue it when an earlier receipt already started it."""
    thread_id = queue_thread_id(message)
    config = _config(thread_id)
    current = summarise(graph, thread_id)
    if current["status"] == "not_found":
        run_input = {
            "object_key": message["key"], "entity": message.get("entity") or "auto", "client": message["client"],
            "defaults": {}, "started_by": "queue",
        }
        if message.get("client_contact"):
            run_input["client_contact"] = message["client_contact"]
        graph.invoke(run_input, config)
    elif current["status"] != "waiting_for_approval" and graph.get_state(config).next:
        graph.invoke(None, config)
    return summarise(graph, thread_id)


def _consume(graph, queue, receipt: str, message: dict) -> dict:
    """Run one queue message, delete it when its outcome is final and return the outcome."""
    from serverless import runtime

    settings = runtime.settings()
    problem = _message_problem(message, settings.bucket if settings.backend == "aws" else None)
    if problem:
        log.error("queue message rejected and deleted: %s: %.300r", problem, message)
        runtime.notifier().publish(settings.ops_recipient, "queued upload not started", f"{problem}: {message}", None, "rejected_upload")
        queue.delete(receipt)
        return {"status": "rejected", "error": problem, "key": message.get("key")}

    thread_id = queue_thread_id(message)
    name = _object_name(message)
    try:
        summary = _run_message(graph, message)
    except Exception as error:  # noqa: BLE001 - one failing run must not stop the others
        log.exception("run %s for %s failed with an exception, so its message stays queued for a retry", thread_id, name)
        # NOTE: the local queue has no dead-letter queue, so a run that always raises is retried (and reported) forever.
        body = f"{name}: {type(error).__name__}: {error}. The upload stays queued and is retried."
        runtime.notifier().publish(settings.ops_recipient, f"onboarding run {thread_id} crashed", body, thread_id, "failed")
        return {"thread_id": thread_id, "status": "error", "error": f"{type(error).__name__}: {error}", "key": message["key"]}

    if summary["status"] == "not_found":
        log.error("run %s for %s left no checkpoint, so its message stays queued", thread_id, name)
    else:
        queue.delete(receipt)
        log.info("run %s for %s is %s", thread_id, name, summary["status"])
    return {**summary, "key": message["key"]}


def start_from_queue(max_messages: int = 1, wait_s: float = 0) -> list[dict]:
    """Receive up to `max_messages` queued uploads and start one run per message.

    A message is deleted only once its run's state is in the checkpointer (waiting, loaded or
    failed) or when it can never start a run. A run that raises leaves its message in the queue,
    so it is received again after the visibility timeout and continues from its last checkpoint.
    """
    from serverless import runtime

    queue = runtime.queue()
    received = queue.receive(max_messages, wait_s)
    if not received:
        return []
    with open_graph() as graph:
        return [_consume(graph, queue, receipt, message) for receipt, message in received]
