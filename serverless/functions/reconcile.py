"""Reconcile a load: row counts, control totals per currency, required fields, orphans."""

from __future__ import annotations

from onboard import database
from onboard.schema import load_schema
from serverless import runtime


def handler(event: dict, context=None) -> dict:
    """Event: {entity, load (the load function's result), valid_keys, rejected_keys, rows_in}."""
    entity = load_schema().entity(event["entity"])
    load = database.LoadResult.model_validate({**event["load"], "keys": []})
    valid = runtime.iter_frames(event["valid_keys"])
    rejected = runtime.read_frames(event["rejected_keys"])
    result = database.reconcile(
        runtime.settings().database_path,
        entity,
        load,
        valid,
        rows_in=int(event["rows_in"]),
        rows_rejected_before_load=int(event["load"]["rows_rejected_before_load"]),
        rejected_rows=rejected,
    )
    return result.model_dump(mode="json")
