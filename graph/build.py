"""Wire the nodes into the onboarding graph.

`graph` is compiled without a checkpointer, for LangGraph Studio and the server, which bring
their own, and takes `RunInput` (the Studio form) as input. The CLI compiles with its own
checkpointer and the wider `CommandLineInput` through `build_graph(checkpointer, CommandLineInput)`.
Building the graph touches no files and no network.
"""

from __future__ import annotations

import datetime as dt
from typing import get_args

from langgraph.graph import END, START, StateGraph

from graph import nodes
from graph.state import RunInput, RunState

ENTITY_CHOICES = get_args(RunInput.model_fields["entity"].annotation)


def input_problem(state: dict) -> str | None:
    """Return why a run's input cannot start a run, or None.

    LangGraph passes server and Studio input through without validating it against the
    input schema, so the graph checks it itself before touching any file.
    """
    has_path, has_key = bool(state.get("file_path")), bool(state.get("object_key"))
    if not has_path and not has_key:
        return "the run input has neither file_path nor object_key; give the client file's absolute path in file_path or an object key in object_key"
    if has_path and has_key:
        return "the run input has both file_path and object_key; give only one of them"
    entity = state.get("entity") or "auto"
    if entity not in ENTITY_CHOICES:
        return f"entity {entity!r} is not one of {', '.join(ENTITY_CHOICES)}"
    return None


def receive(state: dict) -> dict:
    """Fail the run on unusable input with a message for the person, else receive the file."""
    problem = input_problem(state)
    if problem:
        at = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        return {"status": "failed", "error": problem, "trace": [{"at": at, "step": "receive", "error": problem}]}
    return nodes.receive(state)


def build_graph(checkpointer=None, input_schema=RunInput):
    builder = StateGraph(RunState, input_schema=input_schema)
    builder.add_node("receive", receive)
    builder.add_node("analyst", nodes.analyse)
    builder.add_node("coder", nodes.code)
    builder.add_node("reviewer", nodes.review)
    builder.add_node("approval", nodes.approval)
    builder.add_node("execute", nodes.execute)
    builder.add_node("integrator", nodes.integrate)
    builder.add_node("remember", nodes.remember)

    builder.add_edge(START, "receive")
    builder.add_conditional_edges("receive", nodes.after_receive, {"analyst": "analyst", "end": END})
    builder.add_conditional_edges("analyst", nodes.after_analyst, {"coder": "coder", "end": END})
    builder.add_edge("coder", "reviewer")
    builder.add_conditional_edges("reviewer", nodes.after_review, {"execute": "execute", "analyst": "analyst", "approval": "approval"})
    builder.add_conditional_edges("approval", nodes.after_approval, {"execute": "execute", "analyst": "analyst", "coder": "coder", "end": END})
    builder.add_conditional_edges("execute", nodes.after_execute, {"integrator": "integrator", "end": END})
    builder.add_edge("integrator", "remember")
    builder.add_edge("remember", END)
    return builder.compile(checkpointer=checkpointer)


graph = build_graph()
