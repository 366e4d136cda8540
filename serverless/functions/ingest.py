"""Receive a client file: store it, checksum it, detect its format and read its table.

The same handler receives S3 event notifications: for those it reads no file and queues one
message per new object, for the queue consumer to start a run on.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from onboard.errors import InputFileError
from onboard.reader import read_table
from onboard.storage import sha256_file
from serverless import reception, runtime


def handler(event: dict, context=None) -> dict:
    """Event: {run_id, path}, {run_id, object_key} or an S3 event notification ({"Records": [...]}).

    Returns the table's keys and format, or for an S3 event the queued and rejected objects.
    """
    if "Records" in event:
        return reception.queue_new_objects(event)
    run_id = event["run_id"]
    store = runtime.store()
    source_key = f"runs/{run_id}/source/{Path(event.get('object_key') or event.get('path') or '').name}"
    if event.get("object_key"):
        try:
            stored = store.fetch(event["object_key"])
        except FileNotFoundError as error:
            raise InputFileError(event["object_key"], f"object not found ({error})", "Check the object key and that the upload finished") from error
        name = Path(event["object_key"]).name
        display = event.get("display_name") or event["object_key"]
        # The run keeps its own copy, so a later upload under the same key does not change it.
        store.publish(source_key, stored)
    else:
        source = Path(event["path"])
        display = event.get("display_name") or str(source)
        table = read_table(source, display, event.get("entity"))  # fails early, before copying, on a bad file
        name = source.name
        store.publish(source_key, source)
        stored = source
    table = read_table(stored, display, event.get("entity"))
    frame = table.frame.copy()
    frame.insert(0, "_line", pd.Series(table.line_numbers, index=frame.index, dtype="int64"))
    table_key = runtime.write_frame(f"runs/{run_id}/table.parquet", frame)
    meta = {
        "file_name": name,
        "display_name": display,
        "object_key": source_key,
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
