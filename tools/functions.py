"""One LangChain tool per serverless function, with an argument schema a model can read.

Offline strategies call the same tools (`tool.invoke(args)`), so a run's trace shows the
same calls with or without a model.
"""

from __future__ import annotations

from typing import Any

from langchain_core.tools import StructuredTool
from pydantic import BaseModel, Field

from serverless.invoker import invoke


class IngestArgs(BaseModel):
    run_id: str
    path: str | None = Field(None, description="local path of the client file")
    object_key: str | None = Field(None, description="object key of a file already in the store")
    display_name: str | None = None
    entity: str | None = Field(None, description="for a banking-standard file, which of its tables to read")


class ProfileArgs(BaseModel):
    run_id: str
    table_key: str = Field(description="object key of the run's parsed table")


class SearchArgs(BaseModel):
    source: dict[str, Any] = Field(description="the source format from ingest")
    profiles: list[dict[str, Any]] = Field(description="column profiles")
    k: int = 3


class CompileArgs(BaseModel):
    run_id: str
    spec: dict[str, Any] = Field(description="a mapping spec (MappingSpec JSON)")


class RunScriptArgs(BaseModel):
    run_id: str
    script_key: str
    expected_sha256: str | None = None
    table_key: str
    limit: int | None = Field(None, description="rows to run on; all when empty")
    purpose: str = Field("trial", description="trial or execute")


class ValidateArgs(BaseModel):
    run_id: str
    entity: str
    output_key: str
    purpose: str = "trial"
    preview_rows: int = 5


class LoadArgs(BaseModel):
    run_id: str
    thread_id: str | None = None
    client: str | None = None
    entity: str
    valid_key: str
    rejected_key: str
    bad_rows: list[dict[str, Any]] = Field(default_factory=list)
    file_sha256: str
    script_sha256: str
    rows_in: int


class ReconcileArgs(BaseModel):
    entity: str
    load: dict[str, Any]
    valid_key: str
    rejected_key: str
    rows_in: int


class NotifyArgs(BaseModel):
    thread_id: str | None = None
    recipient: str
    subject: str
    body: str


def _make(function: str, args: type[BaseModel], description: str) -> StructuredTool:
    def call(**kwargs) -> dict:
        return invoke(function, kwargs)

    return StructuredTool.from_function(func=call, name=function, description=description, args_schema=args)


ALL_TOOLS = [
    _make("ingest", IngestArgs, "Store a client file, record its SHA-256, detect kind, encoding, delimiter and header, and read its table."),
    _make("profile", ProfileArgs, "Profile every column: inferred type, null share, distinct count, value shapes, masked samples."),
    _make("search_formats", SearchArgs, "Find approved formats with a similar layout in the format library."),
    _make("compile_spec", CompileArgs, "Compile a mapping spec into the transformation script; returns its SHA-256 and import-policy problems."),
    _make("run_script", RunScriptArgs, "Run a script in the sandbox on a sample (trial) or all rows (execute)."),
    _make("validate", ValidateArgs, "Validate script output against the target schema; split valid and rejected rows."),
    _make("load", LoadArgs, "Load valid rows into the core banking database in one idempotent transaction."),
    _make("reconcile", ReconcileArgs, "Reconcile a load: row counts, control totals per currency, required fields, orphans."),
    _make("notify", NotifyArgs, "Queue a notification to a recipient."),
]
_BY_NAME = {t.name: t for t in ALL_TOOLS}


def tool_by_name(name: str) -> StructuredTool:
    return _BY_NAME[name]
