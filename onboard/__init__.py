"""Core of onboarding-agents: target schema, mapping spec, settings, storage and the CLI.

This package imports nothing from LangGraph, LangChain or AWS so that the serverless
functions can depend on it.
"""

__version__ = "0.1.0"
