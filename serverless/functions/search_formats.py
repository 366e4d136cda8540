"""Search the format library for approved formats with the same layout."""

from __future__ import annotations

from onboard.spec import SourceFormat
from serverless import runtime
from serverless.format_library import FormatLibrary, fingerprint
from serverless.profiling import ColumnProfile


def handler(event: dict, context=None) -> dict:
    """Event: {source, profiles, k}. Returns candidates, nearest first, with structural checks."""
    source = SourceFormat.model_validate(event["source"])
    profiles = [ColumnProfile.model_validate(p) for p in event["profiles"]]
    library = FormatLibrary(runtime.settings().format_library)
    current = fingerprint(source, profiles)
    matches = library.search(current, k=int(event.get("k", 3)))
    out = []
    for match in matches:
        out.append({
            "format_id": match.entry.format_id,
            "version": match.entry.version,
            "entity": match.entry.entity,
            "similarity": match.similarity,
            "structural_problems": match.structural_problems,
            "hash_ok": library.verify(match.entry),
            "approved_by": match.entry.approved_by,
            "approved_at": match.entry.approved_at,
            "spec": match.entry.spec.model_dump(mode="json"),
            "script_sha256": match.entry.script_sha256,
        })
    return {"fingerprint": current.model_dump(mode="json"), "candidates": out}
