"""Local sandbox: runs a generated script in a separate, limited process.

The process has its own network namespace (no network), runs as an unprivileged user when
the product runs as root, works in a fresh private folder outside ONBOARD_HOME, and has
rlimits on address space, CPU time, file size, open files and processes, plus a wall-clock
timeout. The script gets its table through that folder, never a path to the client file.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pandas as pd
from pydantic import BaseModel, Field

from serverless.policy import check_script

RUNNER = Path(__file__).with_name("sandbox_runner.py")
UNPRIVILEGED_UID = 65534  # "nobody" on Debian
CLONE_NEWNET = 0x40000000
OUTPUT_CAP = 20_000
FILE_SIZE_LIMIT = 1 << 30
OPEN_FILES_LIMIT = 256
PROCESS_LIMIT = 64


class SandboxResult(BaseModel):
    status: str = Field(description="ok, error, timeout, killed or policy_violation")
    output_path: str | None = None
    rows: int = 0
    stdout: str = ""
    stderr: str = ""
    error_name: str | None = None
    message: str | None = None
    traceback: str | None = None
    duration_s: float = 0.0
    peak_memory_mb: float = 0.0
    isolation: list[str] = Field(default_factory=list)


def _network_namespace_available() -> bool:
    return sys.platform.startswith("linux") and os.geteuid() == 0


_UNPRIVILEGED_WORKS: bool | None = None


def _unprivileged_python_works() -> bool:
    """Whether the interpreter and the product can run as user nobody (probed once).

    They cannot where Python lives under a private home folder, as with pyenv under /root.
    """
    global _UNPRIVILEGED_WORKS
    if _UNPRIVILEGED_WORKS is None:
        if os.geteuid() != 0:
            _UNPRIVILEGED_WORKS = False
        else:
            def drop() -> None:
                os.setgroups([])
                os.setgid(UNPRIVILEGED_UID)
                os.setuid(UNPRIVILEGED_UID)

            probe = "import pandas, pyarrow, onboard.transforms"
            env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
            try:
                completed = subprocess.run([sys.executable, "-c", probe], env=env, cwd="/", preexec_fn=drop, capture_output=True, timeout=60)
                _UNPRIVILEGED_WORKS = completed.returncode == 0
            except (OSError, subprocess.SubprocessError):
                _UNPRIVILEGED_WORKS = False
    return _UNPRIVILEGED_WORKS


def _limits(memory_mb: int, cpu_s: int, drop_user: bool, isolate_network: bool):
    def apply() -> None:
        os.setsid()
        if isolate_network:
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.unshare(CLONE_NEWNET) != 0:
                os._exit(97)
        resource.setrlimit(resource.RLIMIT_AS, (memory_mb << 20, memory_mb << 20))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 1))
        resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE_LIMIT, FILE_SIZE_LIMIT))
        resource.setrlimit(resource.RLIMIT_NOFILE, (OPEN_FILES_LIMIT, OPEN_FILES_LIMIT))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if drop_user:
            os.setgroups([])
            os.setgid(UNPRIVILEGED_UID)
            os.setuid(UNPRIVILEGED_UID)
            resource.setrlimit(resource.RLIMIT_NPROC, (PROCESS_LIMIT, PROCESS_LIMIT))

    return apply


def run_script(
    script: str,
    table: pd.DataFrame,
    line_numbers: list[int],
    timeout_s: float = 120,
    memory_mb: int = 2048,
    check_policy: bool = True,
    keep_output: Path | None = None,
) -> SandboxResult:
    """Run `script`'s transform on `table` in the sandbox; never raises for the script's faults."""
    if check_policy:
        problems = check_script(script)
        if problems:
            return SandboxResult(status="policy_violation", error_name="PolicyViolation", message="; ".join(problems))

    workdir = Path(tempfile.mkdtemp(prefix="onboard-sandbox-"))
    try:
        frame = table.copy()
        frame.insert(0, "_line", pd.Series(line_numbers, index=frame.index, dtype="int64"))
        frame.columns = [str(c) for c in frame.columns]
        frame.reset_index(drop=True).to_parquet(workdir / "input.parquet", index=False)
        (workdir / "script.py").write_text(script, encoding="utf-8")
        shutil.copyfile(RUNNER, workdir / "runner.py")

        drop_user = _unprivileged_python_works()
        isolation = ["separate process", "rlimits: memory, CPU, file size, open files", "wall-clock timeout"]
        isolate_network = _network_namespace_available()
        isolation.append("own network namespace (no network)" if isolate_network else "NOTE: network not isolated (needs root for a network namespace)")
        if drop_user:
            os.chown(workdir, UNPRIVILEGED_UID, UNPRIVILEGED_UID)
            for child in workdir.iterdir():
                os.chown(child, UNPRIVILEGED_UID, UNPRIVILEGED_UID)
            isolation.append("unprivileged user nobody")
        else:
            # NOTE: weaker: the script runs as the invoking user, so only the import policy
            # keeps it from reading that user's files.
            isolation.append("NOTE: runs as the invoking user (the interpreter is not readable by an unprivileged user)")
        os.chmod(workdir, 0o700)

        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(workdir),
            "LANG": "C.UTF-8",
            "OMP_NUM_THREADS": "1",
            "OPENBLAS_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
            # The product's own packages (transform helpers) are importable from here.
            "PYTHONPATH": str(Path(__file__).resolve().parent.parent),
        }
        command = [sys.executable, "-X", "utf8", str(workdir / "runner.py"), str(workdir)]
        started = time.monotonic()
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        process = subprocess.Popen(
            command,
            cwd=workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            preexec_fn=_limits(memory_mb, int(timeout_s) + 1, drop_user, isolate_network),
        )
        timed_out = False
        try:
            stdout, stderr = process.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            timed_out = True
            os.killpg(process.pid, signal.SIGKILL)
            stdout, stderr = process.communicate()
        duration = time.monotonic() - started
        peak = max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, before) / 1024
        result = SandboxResult(
            status="ok",
            stdout=stdout.decode("utf-8", "replace")[:OUTPUT_CAP],
            stderr=stderr.decode("utf-8", "replace")[:OUTPUT_CAP],
            duration_s=round(duration, 3),
            peak_memory_mb=round(peak, 1),
            isolation=isolation,
        )
        if timed_out:
            result.status, result.error_name = "timeout", "Timeout"
            result.message = f"the script ran longer than {timeout_s:g} s and was stopped"
            return result
        if process.returncode == 97:
            result.status, result.error_name = "error", "SandboxSetupError"
            result.message = "could not create a network namespace for the sandbox"
            return result
        report_path = workdir / "result.json"
        if process.returncode < 0 or not report_path.exists():
            signal_name = signal.Signals(-process.returncode).name if process.returncode < 0 else f"exit {process.returncode}"
            result.status, result.error_name = "killed", "ProcessKilled"
            result.message = f"the sandbox process ended by {signal_name} (a CPU, memory or file-size limit, or a crash)"
            return result
        report = json.loads(report_path.read_text()[:200_000])
        if report.get("status") != "ok":
            result.status = "error"
            result.error_name = report.get("error_name")
            result.message = report.get("message")
            result.traceback = report.get("traceback")
            return result
        output = workdir / "output.parquet"
        target = keep_output or Path(tempfile.mkdtemp(prefix="onboard-output-")) / "output.parquet"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(output, target)
        result.output_path = str(target)
        result.rows = int(report.get("rows", 0))
        return result
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
