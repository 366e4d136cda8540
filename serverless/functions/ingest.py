"""Receive a client file: store it, checksum it, detect its format and read its table."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from onboard.reader import read_table
from onboard.storage import sha256_file
from serverless import runtime


def handler(event: dict, context=None) -> dict:
    """Event: {run_id, path} or {run_id, object_key}. Returns the table's keys and format."""
    run_id = event["run_id"]
    store = runtime.store()
    if event.get("object_key"):
        stored = store.path(event["object_key"])
        name = Path(event["object_key"]).name
        display = event.get("display_name") or event["object_key"]
    else:
        source = Path(event["path"])
        display = event.get("display_name") or str(source)
        table = read_table(source, display, event.get("entity"))  # fails early, before copying, on a bad file
        name = source.name
        stored = store.put_file(f"runs/{run_id}/source/{name}", source)
    table = read_table(stored, display, event.get("entity"))
    frame = table.frame.copy()
    frame.insert(0, "_line", pd.Series(table.line_numbers, index=frame.index, dtype="int64"))
    table_key = runtime.write_frame(f"runs/{run_id}/table.parquet", frame)
    meta = {
        "file_name": name,
        "display_name": display,
        "object_key": f"runs/{run_id}/source/{name}",
        "sha256": sha256_file(stored),
        "size_bytes": stored.stat().st_size,
        "source": table.source.model_dump(mode="json"),
        "data_rows": table.data_rows,
        "rows_read": len(table.frame),
        "bad_rows": table.bad_rows,
        # A banking standard's table already says which entity it holds.
        "table_entity": getattr(table, "entity", None),
    }
    meta_key = runtime.write_json(f"runs/{run_id}/table.json", meta)
    return {"table_key": table_key, "meta_key": meta_key, **{k: meta[k] for k in ("sha256", "data_rows", "rows_read", "file_name", "display_name", "table_entity")}, "source": meta["source"], "bad_rows": table.bad_rows}
