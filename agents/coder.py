"""The coder: turns the mapping spec into the transformation script.

Offline strategy: the deterministic compiler, through the compile_spec tool.
"""

from __future__ import annotations

from tools import tool_by_name

PROMPT = """You are the coder of a bank's client-onboarding team. Express each mapping with the
closed set of transforms; write a custom function only where none fits, and keep it to pandas
and the product's transform helpers."""


def write_script(run_id: str, spec: dict) -> dict:
    """Compile `spec`; returns the script, its object key, SHA-256 and import-policy problems."""
    return tool_by_name("compile_spec").invoke({"run_id": run_id, "spec": spec})
