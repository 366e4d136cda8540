"""Harness that runs inside the sandbox process: load the script, call transform, write output.

Run as `python -I -S -B sandbox_runner.py WORKDIR --path DIR ... [--drop-to UID] [--max-processes N]`.
Reads WORKDIR/input.parquet and WORKDIR/script.py and writes WORKDIR/output.parquet and
WORKDIR/result.json. Every output cell is text or null.

`sandbox_runner.py --init -- COMMAND...` instead acts as PID 1 of the bwrap sandbox: see run_as_init.

The script runs in this process, so it can rewrite anything here, result.json included. The
caller therefore checks the output again on its side and trusts nothing in this file's checks.
"""

import argparse
import importlib
import importlib.util
import json
import os
import resource
import signal
import sys
import traceback
from pathlib import Path

LINE_COLUMN = "_line"

# Loaded before the script runs, so that they work after a privilege drop that makes the
# interpreter's own folder unreadable (a pyenv under /root in the fallback backend).
PRELOADED_MODULES = (
    "pandas", "numpy", "pyarrow", "pyarrow.parquet", "decimal", "datetime", "re", "math", "onboard.transforms",
)


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Run a generated transform script on WORKDIR/input.parquet.")
    parser.add_argument("workdir", type=Path, help="folder with input.parquet and script.py")
    parser.add_argument("--path", action="append", default=[], help="folder to append to sys.path (repeatable)")
    parser.add_argument("--drop-to", type=int, help="user and group id to switch to after the imports (needs root)")
    parser.add_argument("--max-processes", type=int, help="RLIMIT_NPROC to set before the script runs")
    return parser.parse_args(argv)


def preload(paths: list[str]) -> None:
    sys.path.extend(paths)
    for name in PRELOADED_MODULES:
        importlib.import_module(name)

    import pyarrow

    # Arrow sizes its thread pools from the CPU count; the process limit counts threads.
    pyarrow.set_cpu_count(1)
    pyarrow.set_io_thread_count(1)


def drop_privileges(uid: int) -> None:
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)
    if os.getuid() != uid or os.geteuid() != uid:
        raise PermissionError(f"could not switch to user id {uid}")


def run_transform(workdir: Path) -> int:
    import pandas as pd

    table = pd.read_parquet(workdir / "input.parquet")
    lines = table.pop(LINE_COLUMN)
    table = table.astype(object).where(table.notna(), None)
    spec = importlib.util.spec_from_file_location("client_transform", workdir / "script.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    output = module.transform(table)
    if not isinstance(output, pd.DataFrame):
        raise TypeError(f"transform returned {type(output).__name__}, expected a pandas DataFrame")
    if len(output) > len(table):
        raise ValueError(f"transform returned {len(output)} rows for {len(table)} input rows")
    if not output.index.isin(table.index).all():
        raise ValueError("transform returned rows whose index is not in the input")
    if output.index.has_duplicates:
        raise ValueError("transform returned the same input row more than once")
    output = output.astype(object).where(output.notna(), None)
    output = output.map(lambda cell: None if cell is None else str(cell))
    output.insert(0, LINE_COLUMN, lines.loc[output.index].astype("int64"))
    output.columns = [str(c) for c in output.columns]
    output.to_parquet(workdir / "output.parquet", index=False)
    return len(output)


def run_as_init(command: list[str]) -> None:
    """Start `command`, reap every process of the PID namespace, exit with the command's status.

    The caller measures peak memory with wait4() on bwrap. That includes the command's usage
    only when each parent in between reaped its child, which bwrap's own PID 1 does not do.
    SIGTERM kills the command, so a stopped run still reports its usage. When this process
    exits, the kernel kills everything left in the namespace.
    """
    child = 0

    def stop(signum, frame) -> None:
        if child > 0:
            os.kill(child, signal.SIGKILL)

    signal.signal(signal.SIGTERM, stop)
    child = os.fork()
    if child == 0:
        try:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.execv(command[0], command)
        finally:
            os._exit(127)
    while True:
        try:
            pid, status = os.waitpid(-1, 0)
        except ChildProcessError:
            os._exit(127)
        if pid == child:
            code = os.waitstatus_to_exitcode(status)
            # PID 1 cannot end by most signals, so report one as 128 + N, as bwrap does.
            os._exit(128 - code if code < 0 else code)


def main(argv: list[str]) -> int:
    if argv[:2] == ["--init", "--"]:
        run_as_init(argv[2:])
    arguments = parse_arguments(argv)
    result_path = arguments.workdir / "result.json"
    try:
        preload(arguments.path)
        if arguments.drop_to is not None:
            drop_privileges(arguments.drop_to)
        if arguments.max_processes is not None:
            resource.setrlimit(resource.RLIMIT_NPROC, (arguments.max_processes, arguments.max_processes))
        rows = run_transform(arguments.workdir)
        result_path.write_text(json.dumps({"status": "ok", "rows": rows}))
        return 0
    except BaseException as error:  # report every failure of untrusted code as data
        result_path.write_text(json.dumps({
            "status": "error",
            "error_name": type(error).__name__,
            "message": str(error)[:2000],
            "traceback": traceback.format_exc()[-8000:],
        }))
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
