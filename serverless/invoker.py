"""Invoke a serverless function by name.

Locally the handler runs in this process; errors that are the caller's to act on (a bad
input file) propagate as they are, other handler errors are reported the way Lambda reports
a function error.
"""

from __future__ import annotations

import importlib
import time

from onboard.errors import OnboardError

FUNCTIONS = ("ingest", "profile", "search_formats", "compile_spec", "run_script", "validate", "load", "reconcile", "notify")


class FunctionError(RuntimeError):
    """A handler failed: the Lambda-style errorType and errorMessage."""

    def __init__(self, function: str, error_type: str, message: str):
        self.function, self.error_type, self.error_message = function, error_type, message
        super().__init__(f"function {function} failed: {error_type}: {message}")


def invoke(function: str, event: dict) -> dict:
    if function not in FUNCTIONS:
        raise ValueError(f"unknown function {function!r}; known: {', '.join(FUNCTIONS)}")
    module = importlib.import_module(f"serverless.functions.{function}")
    started = time.monotonic()
    try:
        result = module.handler(event, None)
    except OnboardError:
        raise
    except Exception as error:  # a function error is reported, as Lambda does, not a crash
        raise FunctionError(function, type(error).__name__, str(error)) from error
    if isinstance(result, dict):
        result.setdefault("_duration_s", round(time.monotonic() - started, 3))
    return result
