"""Wire the nodes into the onboarding graph.

`graph` is compiled without a checkpointer, for LangGraph Studio and the server, which bring
their own; the CLI compiles with a SQLite checkpointer through `build_graph(checkpointer)`.
Building the graph touches no files and no network.
"""

from __future__ import annotations

from langgraph.graph import END, START, StateGraph

from graph import nodes
from graph.state import RunInput, RunState


def build_graph(checkpointer=None):
    builder = StateGraph(RunState, input_schema=RunInput)
    builder.add_node("receive", nodes.receive)
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
