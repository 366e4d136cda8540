"""Receive a client file: store it, checksum it, detect its format and read its table.

The same handler receives S3 event notifications: for those it reads no file and queues one
message per new object, for the queue consumer to start a run on.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from onboard.errors import InputFileError
from onboard.reader import ParsedTable, read_table, stream_table
from onboard.spec import SourceFormat, add_preamble_columns
from onboard.storage import sha256_file
from serverless import reception, runtime


# The first chunk is also the run's sample: profiling and the trial read it, not the whole file.
BAD_ROWS_INLINE = 20


def handler(event: dict, context=None) -> dict:
    """Event: {run_id, path}, {run_id, object_key} or an S3 event notification ({"Records": [...]}).

    Returns the chunk keys and the format, or for an S3 event the queued and rejected objects.
    The table is written as chunk objects of `chunk_rows` rows, each with the source line of
    every row, so the execute step can fan out over them.
    """
    if event.get("Records"):
        return reception.queue_new_objects(event)
    run_id = event["run_id"]
    store = runtime.store()
    chunk_rows = int(event.get("chunk_rows") or runtime.settings().chunk_rows)
    if event.get("object_key"):
        try:
            read_from = store.fetch(event["object_key"])
        except FileNotFoundError as error:
            raise InputFileError(event["object_key"], f"object not found ({error})", "Check the object key and that the upload finished") from error
        name = Path(event["object_key"]).name
        display = event.get("display_name") or event["object_key"]
    else:
        read_from = Path(event["path"])
        name = read_from.name
        display = event.get("display_name") or str(read_from)
    # Read before storing: a file that cannot be read is refused and nothing is kept.
    source_format, parts = _read_chunks(read_from, display, event.get("entity"), chunk_rows)
    chunk_keys: list[str] = []
    bad_rows: list[dict] = []
    rows_read = 0
    for part in parts:
        frame = part.frame
        frame.insert(0, "_line", pd.Series(part.line_numbers, index=frame.index, dtype="int64"))
        add_preamble_columns(frame, source_format)
        for start in range(0, max(len(frame), 1), chunk_rows):
            if chunk_keys and not len(frame):
                break
            chunk_keys.append(runtime.write_frame(f"runs/{run_id}/chunks/{len(chunk_keys):05d}.parquet", frame.iloc[start:start + chunk_rows]))
        rows_read += len(frame)
        bad_rows += part.bad_rows
        table_entity = getattr(part, "entity", None)
    # The run keeps its own copy, so a later upload under the same key does not change it.
    source_key = f"runs/{run_id}/source/{name}"
    store.publish(source_key, read_from)
    stored = read_from
    bad_rows_key = runtime.write_json(f"runs/{run_id}/bad_rows.json", bad_rows)
    meta = {
        "file_name": name,
        "display_name": display,
        "object_key": source_key,
        "sha256": sha256_file(stored),
        "size_bytes": stored.stat().st_size,
        "source": source_format.model_dump(mode="json"),
        "data_rows": rows_read + len(bad_rows),
        "rows_read": rows_read,
        "bad_rows": bad_rows,
        # A banking standard's table already says which entity it holds.
        "table_entity": table_entity,
    }
    meta_key = runtime.write_json(f"runs/{run_id}/table.json", meta)
    return {
        "table_key": chunk_keys[0], "chunk_keys": chunk_keys, "meta_key": meta_key, "bad_rows_key": bad_rows_key,
        **{k: meta[k] for k in ("sha256", "data_rows", "rows_read", "file_name", "display_name", "table_entity")},
        "source": meta["source"], "bad_rows_count": len(bad_rows), "bad_rows": bad_rows[:BAD_ROWS_INLINE],
    }


def _read_chunks(path: Path, display: str, entity: str | None, chunk_rows: int) -> tuple[SourceFormat, Iterator[ParsedTable]]:
    """Return the file's format and its rows in parts: a large delimited file is streamed, others are read whole.

    A streamed file's first part is read here, so a file that cannot be read fails before
    anything is stored.
    """
    streamed = stream_table(path, display, chunk_rows)
    if streamed is None:
        table = read_table(path, display, entity)
        return table.source, iter([table])
    first = next(streamed.chunks, None)
    if first is None:
        raise InputFileError(display, "has a header but no data rows", "Ask the client for an export that contains rows")
    return streamed.source, itertools.chain([first], streamed.chunks)
