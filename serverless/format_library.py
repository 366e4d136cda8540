"""The format library: approved formats, found again by layout through a FAISS index.

Each entry keeps the layout fingerprint, its embedding, the spec, the script and its
SHA-256, the approver and time, and a version. The embedding is a feature-hashing vector of
the fingerprint (column names, positions, value types and shapes), so it needs no model
and works offline; FAISS gives the nearest approved layouts, and a structural check plus a
sandbox trial decide whether one is reused.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import re
import unicodedata
from contextlib import contextmanager
from pathlib import Path

import faiss
import numpy as np
from pydantic import BaseModel, Field

from onboard.spec import MappingSpec, SourceFormat
from serverless.compiler import script_sha256
from serverless.profiling import ColumnProfile

DIMENSIONS = 512
COMPATIBLE_TYPES = {
    "integer": {"integer", "decimal", "text", "empty", "phone"},
    "decimal": {"decimal", "integer", "empty"},
    "date": {"date", "empty"},
    "text": {"text", "integer", "empty", "iban", "bic", "currency", "date", "decimal", "email", "phone"},
    "phone": {"phone", "text", "integer", "decimal", "empty"},
    "iban": {"iban", "text", "empty"},
    "currency": {"currency", "empty"},
    "email": {"email", "text", "empty"},
    "bic": {"bic", "text", "empty"},
    "empty": {"empty", "text", "integer", "decimal", "date", "iban", "bic", "currency", "email", "phone"},
}


class Fingerprint(BaseModel):
    kind: str
    delimiter: str | None = None
    columns: list[str]
    types: dict[str, str]
    shapes: dict[str, str] = Field(default_factory=dict)


class FormatEntry(BaseModel):
    format_id: str
    version: int
    entity: str
    client: str | None = None
    fingerprint: Fingerprint
    spec: MappingSpec
    script_file: str
    script_sha256: str
    approved_by: str
    approved_at: str
    origin: str = "generated"


class FormatMatch(BaseModel):
    entry: FormatEntry
    similarity: float
    structural_problems: list[str] = Field(default_factory=list)


def _norm(name: str) -> str:
    text = unicodedata.normalize("NFKD", name)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    return re.sub(r"[^a-z0-9]+", " ", text).strip()


def fingerprint(source: SourceFormat, profiles: list[ColumnProfile]) -> Fingerprint:
    return Fingerprint(
        kind=source.kind,
        delimiter=source.delimiter,
        columns=[p.name for p in profiles],
        types={p.name: p.inferred_type for p in profiles},
        shapes={p.name: (p.patterns[0] if p.patterns else "") for p in profiles},
    )


def embed(print_: Fingerprint) -> np.ndarray:
    """Hash the fingerprint's features into a unit vector (the same layout gives the same vector)."""
    features = [f"kind:{print_.kind}", f"delimiter:{print_.delimiter}"]
    for position, column in enumerate(print_.columns):
        name = _norm(column)
        features += [f"col:{name}", f"pos:{position}:{name}", f"type:{name}:{print_.types.get(column)}"]
        features += [f"tok:{token}" for token in name.split()]
        shape = re.sub(r"(.)\1+", r"\1+", print_.shapes.get(column, ""))
        features.append(f"shape:{name}:{shape}")
    vector = np.zeros(DIMENSIONS, dtype="float32")
    for feature in features:
        digest = hashlib.sha256(feature.encode("utf-8")).digest()
        index = int.from_bytes(digest[:4], "little") % DIMENSIONS
        vector[index] += 1.0 if digest[4] & 1 else -1.0
    norm = np.linalg.norm(vector)
    return vector / norm if norm else vector


def structural_problems(stored: Fingerprint, spec: MappingSpec, current: Fingerprint) -> list[str]:
    """Why a stored format does not fit the current file; empty when it fits."""
    problems = []
    needed = {s for m in spec.mappings for s in m.sources}
    for column in sorted(needed):
        if column not in current.columns:
            problems.append(f"column {column!r} is missing")
            continue
        was, now = stored.types.get(column, "empty"), current.types.get(column, "empty")
        if now not in COMPATIBLE_TYPES.get(was, {was}):
            problems.append(f"column {column!r} held {was} values and now holds {now}")
    if stored.kind != current.kind:
        problems.append(f"file kind changed from {stored.kind} to {current.kind}")
    return problems


class FormatLibrary:
    def __init__(self, folder: Path):
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.meta_path = folder / "formats.json"
        self.index_path = folder / "index.faiss"

    @contextmanager
    def _locked(self):
        with (self.folder / ".lock").open("w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def entries(self) -> list[FormatEntry]:
        if not self.meta_path.exists():
            return []
        return [FormatEntry.model_validate(item) for item in json.loads(self.meta_path.read_text(encoding="utf-8"))]

    def _index(self, entries: list[FormatEntry]) -> faiss.Index:
        if self.index_path.exists():
            index = faiss.read_index(str(self.index_path))
            if index.ntotal == len(entries):
                return index
        # Rebuild when the index file is missing or out of step with the metadata.
        index = faiss.IndexFlatIP(DIMENSIONS)
        if entries:
            index.add(np.stack([embed(e.fingerprint) for e in entries]))
        return index

    def script_text(self, entry: FormatEntry) -> str:
        return (self.folder / entry.script_file).read_text(encoding="utf-8")

    def verify(self, entry: FormatEntry) -> bool:
        """Whether the stored script still has the SHA-256 that was approved."""
        path = self.folder / entry.script_file
        return path.exists() and script_sha256(path.read_text(encoding="utf-8")) == entry.script_sha256

    def search(self, current: Fingerprint, k: int = 3) -> list[FormatMatch]:
        entries = self.entries()
        if not entries:
            return []
        index = self._index(entries)
        scores, ids = index.search(embed(current)[None, :], min(k, len(entries)))
        matches = []
        for score, position in zip(scores[0], ids[0]):
            if position < 0:
                continue
            entry = entries[position]
            matches.append(FormatMatch(entry=entry, similarity=round(float(score), 4), structural_problems=structural_problems(entry.fingerprint, entry.spec, current)))
        return matches

    def add(self, current: Fingerprint, spec: MappingSpec, script: str, approved_by: str, client: str | None, origin: str = "generated") -> FormatEntry:
        with self._locked():
            entries = self.entries()
            digest = script_sha256(script)
            for entry in entries:
                if entry.script_sha256 == digest and entry.fingerprint.columns == current.columns:
                    return entry
            same_layout = [e for e in entries if e.fingerprint.columns == current.columns and e.entity == spec.entity]
            version = max((e.version for e in same_layout), default=0) + 1
            layout = json.dumps([spec.entity, current.kind, current.columns], ensure_ascii=False)
            base_id = same_layout[0].format_id if same_layout else f"fmt-{hashlib.sha256(layout.encode('utf-8')).hexdigest()[:10]}"
            # The script's own hash in the file name: a stored script is never overwritten.
            script_file = f"scripts/{base_id}-v{version}-{digest[:12]}.py"
            path = self.folder / script_file
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(script, encoding="utf-8")
            entry = FormatEntry(
                format_id=base_id, version=version, entity=spec.entity, client=client, fingerprint=current,
                spec=spec, script_file=script_file, script_sha256=digest, approved_by=approved_by,
                approved_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), origin=origin,
            )
            entries.append(entry)
            index = faiss.IndexFlatIP(DIMENSIONS)
            index.add(np.stack([embed(e.fingerprint) for e in entries]))
            tmp = self.meta_path.with_suffix(".tmp")
            tmp.write_text(json.dumps([e.model_dump(mode="json") for e in entries], indent=1, ensure_ascii=False), encoding="utf-8")
            faiss.write_index(index, str(self.index_path))
            tmp.replace(self.meta_path)
            return entry
