"""The integrator: runs the approved script on all rows, loads the core database, reconciles.

Offline strategy: fixed steps through the run_script, validate, load, reconcile and notify tools.
"""

from __future__ import annotations

from serverless import runtime
from serverless.invoker import FunctionError
from tools import tool_by_name

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


def execute(run_id: str, entity: str, script_key: str, approved_sha256: str, table_key: str) -> dict:
    """Run the approved script on every row and validate the output."""
    run = tool_by_name("run_script").invoke({
        "run_id": run_id, "script_key": script_key, "expected_sha256": approved_sha256,
        "table_key": table_key, "purpose": "execute",
    })
    if run["status"] != "ok":
        return {"ok": False, "run": run, "error": f"{run.get('error_name')}: {run.get('message')}"}
    checked = tool_by_name("validate").invoke({"run_id": run_id, "entity": entity, "output_key": run["output_key"], "purpose": "execute"})
    summary = {k: run.get(k) for k in ("status", "rows", "duration_s", "peak_memory_mb", "isolation", "script_sha256")}
    return {"ok": True, "run": summary, "validation": checked["report"], "valid_key": checked["valid_key"], "rejected_key": checked["rejected_key"]}


def load_and_reconcile(run_id: str, thread_id: str, client: str | None, entity: str, execution: dict, ingest: dict, script_sha256: str, contact: str | None = None) -> dict:
    """Load, reconcile and notify operations and the client. A load whose own checks fail is rolled back and reported."""
    try:
        load = _load(run_id, thread_id, client, entity, execution, ingest, script_sha256)
    except FunctionError as error:
        if error.error_type != "LoadVerificationError":
            raise
        body = f"{ingest['file_name']}: the load was rolled back because its checks failed: {error.error_message}"
        notify(thread_id, f"{entity} file NOT loaded", body, "failed", client, contact)
        return {"load": None, "reconciliation": None, "error": body}
    reconciliation = tool_by_name("reconcile").invoke({
        "entity": entity, "load": load, "valid_key": execution["valid_key"],
        "rejected_key": execution["rejected_key"], "rows_in": ingest["data_rows"],
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


def _load(run_id: str, thread_id: str, client: str | None, entity: str, execution: dict, ingest: dict, script_sha256: str) -> dict:
    return tool_by_name("load").invoke({
        "run_id": run_id, "thread_id": thread_id, "client": client, "entity": entity,
        "valid_key": execution["valid_key"], "rejected_key": execution["rejected_key"],
        "bad_rows": ingest.get("bad_rows", []), "file_sha256": ingest["sha256"],
        "script_sha256": script_sha256, "rows_in": ingest["data_rows"],
    })
