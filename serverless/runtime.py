"""What every handler shares: settings, the object store and the run's table on disk."""

from __future__ import annotations

import json

import pandas as pd

from onboard.settings import Settings, load_settings
from onboard.spec import SourceFormat
from onboard.storage import LocalObjectStore


def settings() -> Settings:
    return load_settings().ensure()


def store() -> LocalObjectStore:
    return LocalObjectStore(settings().object_store)


def read_frame(key: str) -> pd.DataFrame:
    frame = pd.read_parquet(store().path(key))
    return frame.astype(object).where(frame.notna(), None)


def read_frames(keys: list[str]) -> pd.DataFrame:
    """The frames under `keys` as one, in key order (the chunks of one table)."""
    frames = [read_frame(key) for key in keys]
    if not frames:
        return pd.DataFrame()
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


def write_frame(key: str, frame: pd.DataFrame) -> str:
    path = store().path(key)
    path.parent.mkdir(parents=True, exist_ok=True)
    out = frame.copy()
    out.columns = [str(c) for c in out.columns]
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
