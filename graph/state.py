"""The graph's state: everything a run has found and decided, kept in the checkpoint between steps."""

from __future__ import annotations

import operator
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field
from typing_extensions import TypedDict

from agents.llm import add_usage


# The exported `graph` takes this as its input schema, so Studio's form shows these fields and
# nothing else; the docstring is the form's description. LangGraph does not validate input
# against it: the graph's first step fails the run with a clear error on unusable input.
class RunInput(BaseModel):
    """Start an onboarding run: the client file, its entity and who the run is for."""

    file_path: str | None = Field(None, description="absolute path of the client file on the server's machine")
    object_key: str | None = Field(None, description="object key of a file already in the object store (instead of file_path)")
    entity: Literal["auto", "customer", "account", "transaction"] = Field("auto", description="target entity; auto detects it")
    client: str | None = Field(None, description="client name, recorded with the load and the approved format")
    started_by: str | None = Field(None, description="who starts the run, recorded in the audit table as the maker")
    client_contact: str | None = Field(None, description="optional contact at the client, kept with the run")


class CommandLineInput(TypedDict, total=False):
    """Input of runs started by the CLI and the eval harness: the form fields plus operator options."""

    file_path: str
    object_key: str
    entity: str
    client: str
    client_contact: str
    started_by: str
    defaults: dict[str, str]
    hand_spec: dict[str, Any]
    hand_script: str
    origin: str


class RunState(CommandLineInput, total=False):
    run_id: str
    status: str
    error: str | None
    ingest: dict[str, Any]
    profiles: list[dict[str, Any]]
    library: dict[str, Any]
    reuse: dict[str, Any] | None
    reused_format: str | None
    spec: dict[str, Any]
    candidates: dict[str, list[dict[str, Any]]]
    compiled: dict[str, Any]
    review: dict[str, Any]
    round: int
    back_to_analyst: bool
    exclusions: list[list[str]]
    overrides: dict[str, list[str]]
    feedback: list[dict[str, Any]]
    approval: dict[str, Any] | None
    execution: dict[str, Any]
    load: dict[str, Any]
    reconciliation: dict[str, Any]
    format_entry: dict[str, Any] | None
    trace: Annotated[list[dict[str, Any]], operator.add]
    # Model-backed agents (agents/model_agents.py); absent when no model is configured.
    proposed_by: str
    model_usage: Annotated[dict[str, dict[str, Any]], add_usage]
    model_notes: Annotated[dict[str, Any], operator.or_]
