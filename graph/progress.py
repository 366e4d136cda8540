"""Progress of the long steps (execute, load), drawn by the program that runs the graph.

Nodes report rows done; the CLI installs a reporter that draws a bar on a terminal. With no
reporter installed (tests, the server, a pipe) reporting costs nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

# A reporter factory takes (step description, total rows) and returns a context manager that
# yields a function to call with the rows just finished.
Reporter = Callable[[str, int], "contextmanager[Callable[[int], None]]"]
_reporter: Reporter | None = None


def install(reporter: Reporter | None) -> None:
    global _reporter
    _reporter = reporter


@contextmanager
def track(step: str, total_rows: int) -> Iterator[Callable[[int], None]]:
    if _reporter is None:
        yield lambda rows: None
        return
    with _reporter(step, total_rows) as advance:
        yield advance
