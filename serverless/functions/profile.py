"""Profile every column of a run's table."""

from __future__ import annotations

from serverless import runtime
from serverless.profiling import profile_table


def handler(event: dict, context=None) -> dict:
    """Event: {run_id, table_key}. Returns {profile_key, profiles, rows_profiled}.

    Profiles the first `profile_rows` rows: enough to recognise every column's format, and the
    cost stays flat however large the file is.
    """
    frame, _ = runtime.split_table(runtime.read_frame(event["table_key"]))
    frame = frame.head(runtime.settings().profile_rows)
    profiles = [p.model_dump(mode="json") for p in profile_table(frame)]
    key = runtime.write_json(f"runs/{event['run_id']}/profile.json", profiles)
    return {"profile_key": key, "profiles": profiles, "rows_profiled": len(frame)}
