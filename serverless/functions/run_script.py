"""Run a script on a run's table (a sample for the trial, all rows for execute) in the sandbox."""

from __future__ import annotations

from serverless import runtime
from serverless.compiler import script_sha256
from serverless.sandbox import run_script


def handler(event: dict, context=None) -> dict:
    """Event: {run_id, script_key, expected_sha256, table_key, limit, purpose}.

    Refuses a script whose SHA-256 differs from `expected_sha256`: what runs is what was approved.
    """
    script = runtime.store().get_bytes(event["script_key"]).decode("utf-8")
    digest = script_sha256(script)
    if event.get("expected_sha256") and digest != event["expected_sha256"]:
        return {"status": "refused", "error_name": "HashMismatch", "message": f"script SHA-256 {digest} differs from the approved {event['expected_sha256']}"}
    frame, lines = runtime.split_table(runtime.read_frame(event["table_key"]))
    limit = event.get("limit")
    if limit:
        frame, lines = frame.head(int(limit)), lines[: int(limit)]
    settings = runtime.settings()
    purpose = event.get("purpose", "trial")
    output_key = f"runs/{event['run_id']}/{purpose}-output.parquet"
    with runtime.staged_file(output_key) as output_path:
        result = run_script(
            script,
            frame,
            lines,
            timeout_s=float(event.get("timeout_s", settings.sandbox_timeout_s)),
            memory_mb=int(event.get("memory_mb", settings.sandbox_memory_mb)),
            keep_output=output_path,
        )
    payload = result.model_dump(mode="json")
    payload["output_key"] = output_key if result.status == "ok" else None
    payload["script_sha256"] = digest
    return payload
