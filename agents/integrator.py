"""The integrator: runs the approved script on all rows, loads the core database, reconciles.

Offline strategy: fixed steps through the run_script, validate, load, reconcile and notify tools.
"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import TimeoutError as FuturesTimeout

from langchain_core.runnables.config import ContextThreadPoolExecutor

from serverless import runtime
from serverless.invoker import FunctionError
from tools import tool_by_name

# Seconds between reads of the load's progress object.
PROGRESS_POLL_S = 0.5

PROMPT = """You are the integrator of a bank's client-onboarding team. Explain in plain words why
a reconciliation failed and which rows or totals to look at."""


def notify(thread_id: str | None, subject: str, body: str, kind: str, client: str | None = None, contact: str | None = None) -> None:
    """Tell the operations recipient (ONBOARD_OPS_RECIPIENT) and, when the run names one, the client's contact.

    A run without a `client_contact` but with a client name notifies `client:<name>`.
    """
    recipients = [runtime.settings().ops_recipient]
    client_recipient = contact or (f"client:{client}" if client else None)
    if client_recipient:
        recipients.append(client_recipient)
    for recipient in recipients:
        tool_by_name("notify").invoke({"thread_id": thread_id, "recipient": recipient, "subject": subject, "body": body, "kind": kind})


def execute(run_id: str, entity: str, script_key: str, approved_sha256: str, chunk_keys: list[str], max_workers: int = 1, progress=None) -> dict:
    """Run the approved script on every chunk, in parallel up to `max_workers`, and validate each output.

    Results are combined in chunk order, so rows keep the file's order. `progress(rows)` is called
    as chunks finish. The first failing chunk fails the execute step.
    """
    def one(number: int, chunk_key: str) -> dict:
        purpose = f"execute-{number:05d}"
        run = tool_by_name("run_script").invoke({
            "run_id": run_id, "script_key": script_key, "expected_sha256": approved_sha256,
            "table_key": chunk_key, "purpose": purpose,
        })
        if run["status"] != "ok":
            return {"ok": False, "run": run, "error": f"chunk {number + 1} of {len(chunk_keys)}: {run.get('error_name')}: {run.get('message')}"}
        checked = tool_by_name("validate").invoke({"run_id": run_id, "entity": entity, "output_key": run["output_key"], "purpose": purpose, "preview_rows": 0})
        if progress:
            progress(checked["report"]["rows_in"])
        return {"ok": True, "run": run, "checked": checked}

    # The pool copies the caller's context, so each chunk's tool calls join the run's trace.
    with ContextThreadPoolExecutor(max_workers=max(1, min(max_workers, len(chunk_keys)))) as pool:
        results = list(pool.map(one, range(len(chunk_keys)), chunk_keys))
    failed = next((r for r in results if not r["ok"]), None)
    if failed:
        return {"ok": False, "run": failed["run"], "error": failed["error"]}
    runs = [r["run"] for r in results]
    summary = {
        "status": "ok",
        "rows": sum(r.get("rows") or 0 for r in runs),
        "chunks": len(runs),
        "duration_s": round(sum(r.get("duration_s") or 0 for r in runs), 3),
        "peak_memory_mb": max((r.get("peak_memory_mb") or 0 for r in runs), default=0),
        "isolation": runs[0].get("isolation"),
        "script_sha256": runs[0].get("script_sha256"),
    }
    return {
        "ok": True, "run": summary, "validation": combine_reports([r["checked"]["report"] for r in results]),
        "output_keys": [r["run"]["output_key"] for r in results],
        "valid_keys": [r["checked"]["valid_key"] for r in results],
        "rejected_keys": [r["checked"]["rejected_key"] for r in results],
    }


def combine_reports(reports: list[dict], sample_limit: int = 50) -> dict:
    """Combine the validation reports of a file's chunks into one report for the whole file."""
    failures: Counter[str] = Counter()
    for report in reports:
        failures.update(report["failures_by_field"])
    return {
        "rows_in": sum(r["rows_in"] for r in reports),
        "rows_valid": sum(r["rows_valid"] for r in reports),
        "rows_rejected": sum(r["rows_rejected"] for r in reports),
        "failures_by_field": dict(failures),
        "rejected": [item for r in reports for item in r["rejected"]][:sample_limit],
        "missing_columns": reports[0]["missing_columns"] if reports else [],
        "unexpected_columns": reports[0]["unexpected_columns"] if reports else [],
    }


def load_and_reconcile(run_id: str, thread_id: str, client: str | None, entity: str, execution: dict, ingest: dict, script_sha256: str,
                       contact: str | None = None, progress=None) -> dict:
    """Load, reconcile and notify operations and the client. A load whose own checks fail is rolled back and reported.

    `progress(rows)` is called as the load reports chunks done.
    """
    try:
        load = _load(run_id, thread_id, client, entity, execution, ingest, script_sha256, progress)
    except FunctionError as error:
        if error.error_type != "LoadVerificationError":
            raise
        body = f"{ingest['file_name']}: the load was rolled back because its checks failed: {error.error_message}"
        notify(thread_id, f"{entity} file NOT loaded", body, "failed", client, contact)
        return {"load": None, "reconciliation": None, "error": body}
    reconciliation = tool_by_name("reconcile").invoke({
        "entity": entity, "load": load, "valid_keys": execution["valid_keys"],
        "rejected_keys": execution["rejected_keys"], "rows_in": ingest["data_rows"],
    })
    if reconciliation["rows_loaded"] == 0:
        outcome = "NOT loaded: every row was rejected"
    elif reconciliation["passed"]:
        outcome = "loaded and reconciled"
    else:
        outcome = "loaded but reconciliation FAILED"
    body = (
        f"{ingest['file_name']}: {reconciliation['rows_loaded']} of {reconciliation['rows_in']} rows loaded, "
        f"{reconciliation['rows_rejected']} rejected; {outcome}."
    )
    loaded = reconciliation["passed"] and reconciliation["rows_loaded"] > 0
    notify(thread_id, f"{entity} file {outcome}", body, "loaded" if loaded else "failed", client, contact)
    return {"load": load, "reconciliation": reconciliation, "error": None}


def _load(run_id: str, thread_id: str, client: str | None, entity: str, execution: dict, ingest: dict, script_sha256: str, progress=None) -> dict:
    progress_key = f"runs/{run_id}/progress/load.json"
    event = {
        "run_id": run_id, "thread_id": thread_id, "client": client, "entity": entity,
        "valid_keys": execution["valid_keys"], "rejected_keys": execution["rejected_keys"],
        "bad_rows_key": ingest.get("bad_rows_key"), "progress_key": progress_key, "file_sha256": ingest["sha256"],
        "script_sha256": script_sha256, "rows_in": ingest["data_rows"],
    }
    if progress is None:
        return tool_by_name("load").invoke(event)
    # The load is one invocation; its progress object is read while it runs.
    with ContextThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(tool_by_name("load").invoke, event)
        shown = 0
        while True:
            try:
                return pending.result(timeout=PROGRESS_POLL_S)
            except FuturesTimeout:
                pass
            finally:
                done = _rows_done(progress_key)
                if done > shown:
                    progress(done - shown)
                    shown = done


def _rows_done(progress_key: str) -> int:
    try:
        return int(runtime.read_json(progress_key).get("rows_done", 0))
    except (OSError, ValueError, KeyError):
        return 0
