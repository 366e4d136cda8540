"""Load valid rows into the core banking database in one transaction."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd

from onboard import database
from onboard.schema import load_schema
from serverless import runtime


def handler(event: dict, context=None) -> dict:
    """Event: {run_id, thread_id, client, entity, valid_keys, rejected_keys, bad_rows_key, file_sha256, script_sha256, rows_in}."""
    entity = load_schema().entity(event["entity"])
    valid = _reporting(runtime.iter_frames(event["valid_keys"]), event.get("progress_key"))
    rejected_frame = runtime.read_frames(event["rejected_keys"])
    bad_rows = runtime.read_json(event["bad_rows_key"]) if event.get("bad_rows_key") else []
    rejected = [{"line": item.get("line"), "reason": item["reason"], "stage": "read"} for item in bad_rows]
    rejected += [{"line": int(r["_line"]) if r.get("_line") is not None else None, "reason": r["reason"], "stage": "transform"} for _, r in rejected_frame.iterrows()]
    result = database.load_rows(
        runtime.settings().database_path,
        entity,
        valid,
        rejected,
        thread_id=event.get("thread_id"),
        client=event.get("client"),
        file_sha256=event["file_sha256"],
        script_sha256=event["script_sha256"],
        rows_in=int(event["rows_in"]),
    )
    payload = result.model_dump(mode="json")
    payload.pop("keys")
    payload["rows_rejected_before_load"] = len(rejected)
    return payload


def _reporting(frames: Iterator[pd.DataFrame], progress_key: str | None) -> Iterator[pd.DataFrame]:
    """Pass the chunks through, writing the rows done to `progress_key` once each is loaded."""
    done = 0
    for frame in frames:
        yield frame
        done += len(frame)
        if progress_key:
            runtime.write_json(progress_key, {"rows_done": done})
