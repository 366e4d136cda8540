"""Helpers every handler shares: settings, the object store, the queue, the notifier and the run's table.

ONBOARD_BACKEND chooses the local or the AWS implementation of each. Handlers read and write
objects through `fetch` and `publish`, which work on both.
"""

from __future__ import annotations

import json
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pandas as pd

from onboard.messaging import LocalNotifier, LocalQueue, SnsNotifier, SqsQueue
from onboard.settings import Settings, load_settings
from onboard.spec import SourceFormat
from onboard.storage import LocalObjectStore, S3ObjectStore


def settings() -> Settings:
    return load_settings().ensure()


def store() -> LocalObjectStore | S3ObjectStore:
    current = settings()
    if current.backend == "aws":
        return S3ObjectStore(current.aws_setting("bucket"))
    return LocalObjectStore(current.object_store)


def queue() -> LocalQueue | SqsQueue:
    current = settings()
    if current.backend == "aws":
        return SqsQueue(current.aws_setting("queue_url"))
    return LocalQueue(current.database_path)


def notifier() -> LocalNotifier | SnsNotifier:
    current = settings()
    if current.backend == "aws":
        return SnsNotifier(current.aws_setting("topic_arn"))
    return LocalNotifier(current.database_path)


@contextmanager
def staged_file(key: str) -> Iterator[Path]:
    """Yield a fresh local path to write. On a clean exit, publish the file under `key` if it was written."""
    with tempfile.TemporaryDirectory(prefix="onboard-stage-") as folder:
        path = Path(folder) / Path(key).name
        yield path
        if path.exists():
            store().publish(key, path)


def read_frame(key: str) -> pd.DataFrame:
    # The fetched file lives as long as its store, so the store is held until the frame is read.
    source = store()
    frame = pd.read_parquet(source.fetch(key))
    return frame.astype(object).where(frame.notna(), None)


def iter_frames(keys: list[str]) -> Iterator[pd.DataFrame]:
    """Yield the frames under `keys` one at a time, in key order, so memory keeps one chunk."""
    for key in keys:
        yield read_frame(key)


def read_frames(keys: list[str]) -> pd.DataFrame:
    """Read the frames under `keys` into one, in key order (the chunks of one table)."""
    frames = [read_frame(key) for key in keys]
    if not frames:
        return pd.DataFrame()
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


def write_frame(key: str, frame: pd.DataFrame) -> str:
    out = frame.copy()
    out.columns = [str(c) for c in out.columns]
    with staged_file(key) as path:
        out.to_parquet(path, index=False)
    return key


def read_json(key: str) -> dict:
    return json.loads(store().get_bytes(key).decode("utf-8"))


def write_json(key: str, data) -> str:
    store().put_bytes(key, json.dumps(data, ensure_ascii=False, indent=1, default=str).encode("utf-8"))
    return key


def split_table(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[int]]:
    """Separate the source line numbers from the text cells."""
    lines = [int(x) for x in frame["_line"]]
    return frame.drop(columns=["_line"]), lines


def source_format(meta: dict) -> SourceFormat:
    return SourceFormat.model_validate(meta["source"])
