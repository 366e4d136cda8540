"""Errors that reach a user as one clear message instead of a traceback."""

from __future__ import annotations


class OnboardError(Exception):
    """A failure the user can act on: the message names the file or field and what to do."""


class InputFileError(OnboardError):
    """A client file that cannot be read as a table."""

    def __init__(self, path: str, problem: str, action: str):
        self.path = path
        self.problem = problem
        self.action = action
        super().__init__(f"{path}: {problem}. {action}")


class DatabaseUnavailable(OnboardError):
    """The core database is locked by another connection or full. The step that needed it wrote
    nothing, and the run can be resumed from its last checkpoint once the database is usable."""

    thread_id: str | None = None  # set by the graph runner, so that the message can name the run


def rebuild(error_type: str, message: str) -> OnboardError | None:
    """The user's error a function reported by class name across a process or network boundary.

    Returns None for an error that is not the user's to act on (a bug or a platform fault).
    """
    if error_type == "DatabaseUnavailable":
        return DatabaseUnavailable(message)
    if error_type in ("OnboardError", "InputFileError"):
        # InputFileError's message already names the file, the problem and the action.
        return OnboardError(message)
    return None
