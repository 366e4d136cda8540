"""The graph's state: everything a run has found and decided, kept in the checkpoint between steps."""

from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict

from agents.llm import add_usage


class RunInput(TypedDict, total=False):
    """What starts a run: a client file (local path or object key), the entity and the client."""

    file_path: str
    object_key: str
    entity: str
    client: str
    defaults: dict[str, str]
    started_by: str
    hand_spec: dict[str, Any]
    hand_script: str
    origin: str


class RunState(RunInput, total=False):
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
