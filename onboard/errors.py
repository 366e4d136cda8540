"""Errors that reach a user as one clear message instead of a traceback."""


class OnboardError(Exception):
    """A failure the user can act on: the message names the file or field and what to do."""


class InputFileError(OnboardError):
    """A client file that cannot be read as a table."""

    def __init__(self, path: str, problem: str, action: str):
        self.path = path
        self.problem = problem
        self.action = action
        super().__init__(f"{path}: {problem}. {action}")
