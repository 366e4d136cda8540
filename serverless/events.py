"""The event each function accepts, and each function's Lambda configuration.

Events are JSON objects. Large data never travels inline: tables, scripts and outputs are
passed as object keys. The same models are the argument schemas of the agents' tools.
This module imports pydantic only, so a handler's cold import stays small.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Event(BaseModel):
    # Unknown fields are refused: a misspelt field must not be silently dropped.
    model_config = ConfigDict(extra="forbid")


class IngestEvent(Event):
    run_id: str | None = Field(None, description="required unless the event is an S3 event notification")
    Records: list[dict[str, Any]] | None = Field(None, description="an S3 event notification: queue each new object for a run")
    path: str | None = Field(None, description="local path of the client file")
    object_key: str | None = Field(None, description="object key of a file already in the store")
    display_name: str | None = None
    entity: str | None = Field(None, description="for a banking-standard file, which of its tables to read")
    chunk_rows: int | None = Field(None, ge=1, description="rows per chunk object; the setting's value when empty")


    @model_validator(mode="after")
    def _run_or_records(self) -> "IngestEvent":
        if not self.Records and not self.run_id:
            raise ValueError("an ingest event needs run_id with path or object_key, or S3 Records")
        return self


class ProfileEvent(Event):
    run_id: str
    table_key: str = Field(description="object key of the run's parsed table (its first chunk)")


class SearchFormatsEvent(Event):
    source: dict[str, Any] = Field(description="the source format from ingest")
    profiles: list[dict[str, Any]] = Field(description="column profiles")
    k: int = Field(3, ge=1, le=20)


class CompileSpecEvent(Event):
    run_id: str
    spec: dict[str, Any] = Field(description="a mapping spec (MappingSpec JSON)")


class RunScriptEvent(Event):
    run_id: str
    script_key: str
    expected_sha256: str | None = Field(None, description="refuse to run unless the script has this SHA-256")
    table_key: str = Field(description="object key of the table or chunk to run on")
    limit: int | None = Field(None, ge=1, description="rows to run on; all when empty")
    purpose: str = Field("trial", pattern=r"^[a-z0-9-]+$", description="trial, execute or execute-<chunk>; names the output object")
    timeout_s: float | None = Field(None, gt=0)
    memory_mb: int | None = Field(None, ge=64)


class ValidateEvent(Event):
    run_id: str
    entity: str
    output_key: str
    purpose: str = Field("trial", pattern=r"^[a-z0-9-]+$")
    preview_rows: int = Field(5, ge=0, le=100)


class LoadEvent(Event):
    run_id: str
    thread_id: str | None = None
    client: str | None = None
    entity: str
    valid_keys: list[str] = Field(default_factory=list, description="object keys of the valid rows, in file order")
    rejected_keys: list[str] = Field(default_factory=list, description="object keys of the rows the transform rejected")
    chunks: list[dict[str, Any]] | None = Field(None, description="instead of the two key lists: the validate results of each chunk, in order, as a Step Functions Map returns them")
    bad_rows_key: str | None = Field(None, description="object key of the rows the reader could not parse")
    progress_key: str | None = Field(None, description="object key where the load writes {rows_done} after each chunk, for a progress bar")
    file_sha256: str
    script_sha256: str
    rows_in: int = Field(ge=0)

    @model_validator(mode="after")
    def _keys_from_chunks(self):
        return _take_chunk_keys(self)


class ReconcileEvent(Event):
    entity: str
    load: dict[str, Any] = Field(description="the load function's result")
    valid_keys: list[str] = Field(default_factory=list)
    rejected_keys: list[str] = Field(default_factory=list)
    chunks: list[dict[str, Any]] | None = Field(None, description="the validate results of each chunk, as for load")
    rows_in: int = Field(ge=0)

    @model_validator(mode="after")
    def _keys_from_chunks(self):
        return _take_chunk_keys(self)


def _take_chunk_keys(event):
    """Fill valid_keys and rejected_keys from a Map's per-chunk results; the event needs one or the other."""
    if event.chunks is not None:
        try:
            event.valid_keys = [str(c["valid_key"]) for c in event.chunks]
            event.rejected_keys = [str(c["rejected_key"]) for c in event.chunks]
        except KeyError as missing:
            raise ValueError(f"every chunk result needs valid_key and rejected_key; one lacks {missing}") from None
        event.chunks = None
    if not event.valid_keys and not event.rejected_keys:
        raise ValueError("give valid_keys and rejected_keys, or chunks")
    return event


class NotifyEvent(Event):
    thread_id: str | None = None
    recipient: str
    subject: str
    body: str
    kind: str = Field("notice", description="waiting, loaded, failed or notice; subscriptions filter on it")


class FunctionConfig(BaseModel):
    """Limits Lambda enforces on each invocation: seconds of wall time and MB of memory."""

    timeout_s: float
    memory_mb: int
    event: type[Event]
    package: Literal["zip", "image"] = "zip"


# The SAM template declares the same timeouts and memory sizes; a test keeps the two in step.
FUNCTIONS: dict[str, FunctionConfig] = {
    "ingest": FunctionConfig(timeout_s=900, memory_mb=3008, event=IngestEvent),
    "profile": FunctionConfig(timeout_s=300, memory_mb=2048, event=ProfileEvent),
    "search_formats": FunctionConfig(timeout_s=60, memory_mb=1024, event=SearchFormatsEvent),
    "compile_spec": FunctionConfig(timeout_s=60, memory_mb=1024, event=CompileSpecEvent),
    "run_script": FunctionConfig(timeout_s=900, memory_mb=3008, event=RunScriptEvent, package="image"),
    "validate": FunctionConfig(timeout_s=300, memory_mb=2048, event=ValidateEvent),
    "load": FunctionConfig(timeout_s=900, memory_mb=3008, event=LoadEvent),
    "reconcile": FunctionConfig(timeout_s=300, memory_mb=2048, event=ReconcileEvent),
    "notify": FunctionConfig(timeout_s=60, memory_mb=1024, event=NotifyEvent),
}
