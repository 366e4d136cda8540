"""Validate script output against the target schema and split valid from rejected rows."""

from __future__ import annotations

from onboard.schema import load_schema
from serverless import runtime
from serverless.validation import validate_rows


def handler(event: dict, context=None) -> dict:
    """Event: {run_id, entity, output_key, purpose}. Returns the report and the keys of both parts."""
    entity = load_schema().entity(event["entity"])
    output = runtime.read_frame(event["output_key"])
    valid, rejected, report = validate_rows(output, entity)
    purpose = event.get("purpose", "trial")
    valid_key = runtime.write_frame(f"runs/{event['run_id']}/{purpose}-valid.parquet", valid)
    rejected_key = runtime.write_frame(f"runs/{event['run_id']}/{purpose}-rejected.parquet", rejected)
    preview = valid.head(int(event.get("preview_rows", 5)))
    return {
        "report": report.model_dump(mode="json"),
        "valid_key": valid_key,
        "rejected_key": rejected_key,
        "preview": preview.where(preview.notna(), None).to_dict(orient="records"),
    }
