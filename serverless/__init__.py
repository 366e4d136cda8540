"""Serverless functions (AWS Lambda handlers), their invoker and the sandbox.

Nothing here imports LangGraph, LangChain or a model client: a handler must import with only
the core package and its data libraries installed.
"""
