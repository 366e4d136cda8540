"""The agents' tools: LangChain tools that invoke the serverless functions."""

from tools.functions import ALL_TOOLS, tool_by_name

__all__ = ["ALL_TOOLS", "tool_by_name"]
