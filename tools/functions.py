"""One LangChain tool per serverless function, with an argument schema a model can read.

Offline strategies call the same tools (`tool.invoke(args)`), so a run's trace shows the
same calls with or without a model.
"""

from __future__ import annotations

from langchain_core.tools import StructuredTool
from pydantic import BaseModel

from serverless.events import FUNCTIONS
from serverless.invoker import invoke


def _make(function: str, description: str) -> StructuredTool:
    args: type[BaseModel] = FUNCTIONS[function].event

    def call(**kwargs) -> dict:
        return invoke(function, kwargs)

    return StructuredTool.from_function(func=call, name=function, description=description, args_schema=args)


ALL_TOOLS = [
    _make("ingest", "Store a client file, record its SHA-256, detect kind, encoding, delimiter and header, and read its table."),
    _make("profile", "Profile every column: inferred type, null share, distinct count, value shapes, masked samples."),
    _make("search_formats", "Find approved formats with a similar layout in the format library."),
    _make("compile_spec", "Compile a mapping spec into the transformation script; returns its SHA-256 and import-policy problems."),
    _make("run_script", "Run a script in the sandbox on a sample (trial) or on one chunk of the table (execute)."),
    _make("validate", "Validate script output against the target schema; split valid and rejected rows."),
    _make("load", "Load the valid rows of every chunk into the core banking database in one idempotent transaction."),
    _make("reconcile", "Reconcile a load: row counts, control totals per currency, required fields, orphans."),
    _make("notify", "Queue a notification to a recipient."),
]
_BY_NAME = {t.name: t for t in ALL_TOOLS}


def tool_by_name(name: str) -> StructuredTool:
    return _BY_NAME[name]
