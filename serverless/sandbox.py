"""Local sandbox: runs a generated script in a separate, confined process.

Two backends, chosen by `run_script(backend=...)` or ONBOARD_SANDBOX_BACKEND (auto, bwrap, process):

- bwrap (bubblewrap): own mount, PID, network, IPC, UTS and cgroup namespaces. The sandbox sees
  read-only binds of only the interpreter's prefix, the shared libraries, the site-packages and
  the `onboard` package, plus a size-limited tmpfs for /tmp and for its working folder. Its
  only host-visible writable files are output.parquet and result.json. The script runs as user
  nobody (65534) with no capabilities.
- process: the fallback where bubblewrap is missing or fails its start check. A separate
  process with its own network namespace when the product runs as root, switched to user
  nobody after its imports, but with no mount namespace: the result's `isolation` list says
  what it leaves open.

Both set rlimits (address space, CPU time, file size, open files, processes) before exec and
stop the whole sandbox at a wall-clock timeout. `auto` uses bwrap when it works and the
fallback otherwise; `bwrap` never falls back. No backend runs the script in the caller's process.
"""

from __future__ import annotations

import ctypes
import importlib.util
import json
import logging
import math
import os
import resource
import selectors
import shutil
import signal
import stat
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Callable

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel, Field

from serverless.policy import check_script

log = logging.getLogger(__name__)

RUNNER = Path(__file__).with_name("sandbox_runner.py")
UNPRIVILEGED_UID = 65534  # "nobody" on Debian
CLONE_NEWNET = 0x40000000
NETWORK_SETUP_FAILED = 97  # exit status of the fallback's preexec when unshare() fails

OUTPUT_CAP = 20_000  # bytes of stdout and of stderr kept in the result
OUTPUT_LIMIT = 8 << 20  # bytes of stdout plus stderr after which the sandbox is stopped
REPORT_LIMIT = 200_000  # bytes of result.json read
FILE_SIZE_MB = 1024  # default RLIMIT_FSIZE, which also bounds output.parquet
SCRATCH_MB = 64  # size of each tmpfs (/tmp and the working folder) in the bwrap backend
OPEN_FILES_LIMIT = 256
PROCESS_LIMIT = 64  # RLIMIT_NPROC; threads count too
DRAIN_AFTER_EXIT_S = 1.0  # how long to read pipes still open after the sandbox process ended

SANDBOX_WORKDIR = "/sandbox"
SANDBOX_RUNNER = "/opt/onboard-sandbox/sandbox_runner.py"
HOSTNAME = "onboard-sandbox"

SIGNAL_ERRORS = {
    signal.SIGXCPU: ("CpuTimeLimitExceeded", "the script used more CPU time than its limit of {cpu_s} s"),
    signal.SIGXFSZ: ("FileSizeLimitExceeded", "the script wrote a file larger than the limit of {file_size_mb} MiB"),
    signal.SIGKILL: ("ProcessKilled", "the sandbox process was killed (SIGKILL), by a limit or from outside"),
}


class SandboxResult(BaseModel):
    status: str = Field(description="ok, error, timeout, killed or policy_violation")
    output_path: str | None = None
    rows: int = 0
    stdout: str = ""
    stderr: str = ""
    stdout_truncated: bool = False
    stderr_truncated: bool = False
    error_name: str | None = None
    message: str | None = None
    traceback: str | None = None
    duration_s: float = 0.0
    peak_memory_mb: float = Field(0.0, description="maximum resident set size of the sandbox processes, from wait4()")
    exit_status: int | None = Field(None, description="exit status of the sandbox process; negative for a signal")
    backend: str | None = Field(None, description="bwrap or process; None when the policy rejected the script")
    isolation: list[str] = Field(default_factory=list)


class InvalidOutput(ValueError):
    """The sandbox's output.parquet breaks the output contract."""


@dataclass(frozen=True)
class Limits:
    memory_mb: int
    cpu_s: int
    file_size_mb: int
    timeout_s: float


@dataclass
class Backend:
    name: str
    command: list[str]
    preexec: Callable[[], None]
    isolation: list[str]
    pass_fds: tuple[int, ...] = ()
    status_fd: int | None = None  # read end of bwrap's --json-status-fd


@dataclass
class ChildOutcome:
    exit_status: int | None = None
    peak_memory_mb: float = 0.0
    duration_s: float = 0.0
    stdout: bytearray = field(default_factory=bytearray)
    stderr: bytearray = field(default_factory=bytearray)
    stdout_total: int = 0
    stderr_total: int = 0
    timed_out: bool = False
    output_exceeded: bool = False
    started: bool = True  # False when bwrap never started the command


# The interpreter and the folders the sandbox needs


@dataclass(frozen=True)
class PythonLayout:
    executable: str
    prefixes: tuple[str, ...]  # the interpreter's prefix and exec prefix
    library_paths: tuple[str, ...]  # site-packages folders with pandas, numpy, pyarrow and pycountry
    package: str  # the `onboard` package folder, the only product code the sandbox sees

    @property
    def import_paths(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((*self.library_paths, str(Path(self.package).parent))))


def python_layout() -> PythonLayout:
    executable = os.path.realpath(getattr(sys, "_base_executable", None) or sys.executable)
    prefixes = {os.path.realpath(sys.base_prefix), os.path.realpath(sys.base_exec_prefix)}
    if not any(Path(executable).is_relative_to(prefix) for prefix in prefixes):
        prefixes.add(str(Path(executable).parent))

    library_paths = [os.path.realpath(sysconfig.get_paths()[key]) for key in ("purelib", "platlib")]
    for name in ("pandas", "numpy", "pyarrow", "pycountry"):
        spec = importlib.util.find_spec(name)
        if spec and spec.origin:
            library_paths.append(str(Path(spec.origin).resolve().parents[1]))
    package = Path(importlib.util.find_spec("onboard").origin).resolve().parent
    return PythonLayout(executable, tuple(sorted(prefixes)), tuple(dict.fromkeys(library_paths)), str(package))


def system_mounts() -> list[tuple[str, str, str]]:
    """Return (option, source, destination) for the shared libraries and the loader cache."""
    mounts = []
    for top in ("/lib", "/lib64", "/lib32", "/libx32"):
        if os.path.islink(top):
            mounts.append(("--symlink", os.readlink(top), top))
        elif os.path.isdir(top):
            mounts.append(("--ro-bind", top, top))
    for folder in ("/usr/lib", "/usr/lib64", "/usr/lib32", "/usr/libx32", "/usr/share/zoneinfo", "/etc/ld.so.cache"):
        if os.path.exists(folder) and not os.path.islink(folder):
            mounts.append(("--ro-bind", folder, folder))
    return mounts


def mount_arguments(mounts: list[tuple[str, str, str]]) -> list[str]:
    """Turn identity mounts into bwrap options, creating each missing parent with mode 0755.

    bwrap creates parent folders with mode 0700 when it runs as root, which user nobody could
    not enter. A mount inside an earlier read-only bind is dropped because it is already there.
    """
    arguments: list[str] = []
    created: set[PurePosixPath] = set()
    bound: list[PurePosixPath] = []
    for option, source, destination in sorted(mounts, key=lambda m: len(PurePosixPath(m[2]).parts)):
        target = PurePosixPath(destination)
        if any(target.is_relative_to(folder) for folder in bound):
            continue
        for parent in reversed(target.parents):
            if parent == PurePosixPath("/") or parent in created:
                continue
            arguments += ["--perms", "0755", "--dir", str(parent)]
            created.add(parent)
        arguments += [option, source, destination]
        if option == "--ro-bind":
            bound.append(target)
    return arguments


def sandbox_environment() -> dict[str, str]:
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": SANDBOX_WORKDIR,
        "LANG": "C.UTF-8",
        "TZ": "UTC",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }


# Backends


def bwrap_command(bwrap: str, setpriv: str | None, layout: PythonLayout, workdir: Path | None, payload: list[str]) -> list[str]:
    """Build the bwrap command line; `workdir` None leaves out the working files (start check).

    As root, bwrap creates no user namespace, so the sandbox process is the real user nobody
    after setpriv: RLIMIT_NPROC then applies to it, which it would not to root mapped into a
    user namespace. Without root, bwrap maps nobody inside to the invoking user outside.
    """
    as_root = setpriv is not None
    command = [bwrap, "--die-with-parent", "--new-session"]
    if as_root:
        command += ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try"]
    else:
        command += ["--unshare-all", "--unshare-user", "--disable-userns", "--uid", str(UNPRIVILEGED_UID), "--gid", str(UNPRIVILEGED_UID)]
    command += ["--hostname", HOSTNAME, "--clearenv"]
    for key, value in sandbox_environment().items():
        command += ["--setenv", key, value]

    mounts = system_mounts()
    mounts += [("--ro-bind", folder, folder) for folder in (*layout.prefixes, *layout.library_paths, layout.package)]
    mounts.append(("--ro-bind", str(RUNNER), SANDBOX_RUNNER))
    if setpriv:
        mounts.append(("--ro-bind", setpriv, setpriv))
    command += mount_arguments(mounts)
    command += ["--proc", "/proc", "--dev", "/dev"]
    command += ["--perms", "1777", "--size", str(SCRATCH_MB << 20), "--tmpfs", "/tmp"]
    command += ["--perms", "1777", "--size", str(SCRATCH_MB << 20), "--tmpfs", SANDBOX_WORKDIR]
    if workdir is not None:
        for name in ("input.parquet", "script.py"):
            command += ["--ro-bind", str(workdir / name), f"{SANDBOX_WORKDIR}/{name}"]
        for name in ("output.parquet", "result.json"):
            command += ["--bind", str(workdir / name), f"{SANDBOX_WORKDIR}/{name}"]
    command += ["--chdir", SANDBOX_WORKDIR]
    if as_root:
        uid = str(UNPRIVILEGED_UID)
        command += [setpriv, "--reuid", uid, "--regid", uid, "--clear-groups", "--inh-caps=-all", "--bounding-set=-all", "--"]
    return command + payload


def runner_arguments(python: str, runner: str, workdir: str, layout: PythonLayout) -> list[str]:
    arguments = [python, "-I", "-S", "-B", "-X", "utf8", runner, workdir]
    for folder in layout.import_paths:
        arguments += ["--path", folder]
    return arguments


def limit_child(limits: Limits, nproc_in_preexec: bool, isolate_network: bool) -> Callable[[], None]:
    """Return the preexec function: new session, optional network namespace, rlimits."""

    def apply() -> None:
        os.setsid()
        if isolate_network:
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.unshare(CLONE_NEWNET) != 0:
                os._exit(NETWORK_SETUP_FAILED)
        memory = limits.memory_mb << 20
        file_size = limits.file_size_mb << 20
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_s, limits.cpu_s + 1))
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_size, file_size))
        resource.setrlimit(resource.RLIMIT_NOFILE, (OPEN_FILES_LIMIT, OPEN_FILES_LIMIT))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if nproc_in_preexec:
            resource.setrlimit(resource.RLIMIT_NPROC, (PROCESS_LIMIT, PROCESS_LIMIT))

    return apply


def limit_descriptions(limits: Limits, processes: bool) -> list[str]:
    described = [
        f"rlimits: address space {limits.memory_mb} MiB, CPU time {limits.cpu_s} s, file size {limits.file_size_mb} MiB, {OPEN_FILES_LIMIT} open files"
        + (f", {PROCESS_LIMIT} processes" if processes else ""),
        f"wall-clock timeout {limits.timeout_s:g} s stops the whole sandbox",
        f"stdout and stderr kept up to {OUTPUT_CAP} bytes each; the run is stopped after {OUTPUT_LIMIT >> 20} MiB",
    ]
    if not processes:
        described.append("NOTE: no process limit (RLIMIT_NPROC would count all processes of the invoking user)")
    return described


def bwrap_backend(bwrap: str, layout: PythonLayout, workdir: Path, limits: Limits) -> Backend:
    as_root = os.geteuid() == 0
    setpriv = shutil.which("setpriv") if as_root else None
    payload = runner_arguments(layout.executable, SANDBOX_RUNNER, SANDBOX_WORKDIR, layout)
    payload += ["--max-processes", str(PROCESS_LIMIT)]
    command = bwrap_command(bwrap, setpriv, layout, workdir, payload)
    status_read, status_write = os.pipe()
    command[1:1] = ["--json-status-fd", str(status_write)]
    isolation = [
        "bubblewrap: own mount, PID, network, IPC, UTS and cgroup namespaces"
        + ("" if as_root else " and a user namespace with no nested user namespaces"),
        "read-only view of only the interpreter, the shared libraries, site-packages and the onboard package",
        f"writable: a {SCRATCH_MB} MiB tmpfs /tmp and working folder, plus output.parquet and result.json",
        "no network (empty network namespace)",
        f"runs as user nobody ({UNPRIVILEGED_UID}) with no capabilities and no_new_privs",
        *limit_descriptions(limits, processes=True),
    ]
    return Backend(
        name="bwrap",
        command=command,
        preexec=limit_child(limits, nproc_in_preexec=as_root, isolate_network=False),
        isolation=isolation,
        pass_fds=(status_write,),
        status_fd=status_read,
    )


def process_backend(layout: PythonLayout, workdir: Path, limits: Limits, reason: str) -> Backend:
    as_root = os.geteuid() == 0
    command = runner_arguments(layout.executable, str(RUNNER), str(workdir), layout)
    if as_root:
        command += ["--drop-to", str(UNPRIVILEGED_UID)]
    isolation = [
        f"NOTE: fallback backend, weaker than bubblewrap ({reason}): a separate process with no mount or PID namespace",
        "own network namespace (no network)" if as_root else "NOTE: network not isolated (needs root for a network namespace)",
        f"runs as user nobody ({UNPRIVILEGED_UID}) after its imports; it can read every file nobody can read, /etc/passwd included"
        if as_root else "NOTE: runs as the invoking user and can read all of that user's files",
        "NOTE: a child process that leaves the process group outlives the timeout until its CPU-time limit",
        "NOTE: the working folder is on disk; only each file's size is limited, not their total",
        *limit_descriptions(limits, processes=as_root),
    ]
    return Backend(
        name="process",
        command=command,
        preexec=limit_child(limits, nproc_in_preexec=as_root, isolate_network=as_root),
        isolation=isolation,
    )


_BWRAP_CHECKS: dict[tuple[str, int], str | None] = {}


def bwrap_problem(bwrap: str | None) -> str | None:
    """Return why bwrap cannot be used here, or None when its start check passes (cached)."""
    if not sys.platform.startswith("linux"):
        return "bubblewrap needs Linux"
    if bwrap is None:
        return "bubblewrap (bwrap) is not installed"
    key = (bwrap, os.geteuid())
    if key not in _BWRAP_CHECKS:
        setpriv = shutil.which("setpriv") if os.geteuid() == 0 else None
        if os.geteuid() == 0 and setpriv is None:
            _BWRAP_CHECKS[key] = "setpriv (util-linux) is not installed, so the sandbox could not switch to user nobody"
        else:
            layout = python_layout()
            payload = [layout.executable, "-I", "-S", "-c", "import os, sys; sys.exit(os.getuid() != %d)" % UNPRIVILEGED_UID]
            command = bwrap_command(bwrap, setpriv, layout, None, payload)
            try:
                completed = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
                failed = completed.returncode != 0
                detail = completed.stderr.decode("utf-8", "replace").strip()[-500:] or f"exit status {completed.returncode}"
            except (OSError, subprocess.SubprocessError) as error:
                failed, detail = True, str(error)
            _BWRAP_CHECKS[key] = f"bubblewrap failed its start check: {detail}" if failed else None
            if failed:
                log.warning("bubblewrap at %s failed its start check: %s", bwrap, detail)
    return _BWRAP_CHECKS[key]


def select_backend(requested: str, layout: PythonLayout, workdir: Path, limits: Limits) -> Backend | str:
    """Return the backend to use, or the reason none may be used."""
    if requested not in ("auto", "bwrap", "process"):
        return f"unknown sandbox backend {requested!r}; expected auto, bwrap or process"
    if requested == "process":
        return process_backend(layout, workdir, limits, "requested")
    bwrap = shutil.which("bwrap")
    problem = bwrap_problem(bwrap)
    if problem is None:
        return bwrap_backend(bwrap, layout, workdir, limits)
    if requested == "bwrap":
        return f"the bwrap backend was requested but {problem}"
    return process_backend(layout, workdir, limits, problem)


# Running and supervising the sandbox process


def supervise(backend: Backend, cwd: Path, limits: Limits) -> ChildOutcome:
    """Run the backend's command, capture capped output, enforce the timeout, reap with wait4."""
    outcome = ChildOutcome()
    started = time.monotonic()
    try:
        process = subprocess.Popen(
            backend.command,
            cwd=cwd,
            env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            preexec_fn=backend.preexec,
            pass_fds=backend.pass_fds,
        )
    finally:
        for descriptor in backend.pass_fds:
            os.close(descriptor)

    selector = selectors.DefaultSelector()
    pidfd = os.pidfd_open(process.pid)
    selector.register(pidfd, selectors.EVENT_READ, "exit")
    for stream, name in ((process.stdout, "stdout"), (process.stderr, "stderr")):
        os.set_blocking(stream.fileno(), False)
        selector.register(stream, selectors.EVENT_READ, name)
    status_text = bytearray()
    if backend.status_fd is not None:
        selector.register(backend.status_fd, selectors.EVENT_READ, "status")

    def stop() -> None:
        # Only called before the process is reaped, so its process group id is still ours.
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    deadline = started + limits.timeout_s
    drain_until: float | None = None
    try:
        while True:
            now = time.monotonic()
            if outcome.exit_status is None and now >= deadline and not outcome.timed_out:
                outcome.timed_out = True
                stop()
            if drain_until is not None and (now >= drain_until or len(selector.get_map()) == 0):
                break
            wait_s = (drain_until or (deadline if not outcome.timed_out else now + 1.0)) - now
            for key, _ in selector.select(timeout=max(wait_s, 0.0)):
                if key.data == "exit":
                    _, wait_status, usage = os.wait4(process.pid, 0)
                    outcome.exit_status = os.waitstatus_to_exitcode(wait_status)
                    outcome.peak_memory_mb = usage.ru_maxrss / 1024
                    process.returncode = outcome.exit_status
                    selector.unregister(pidfd)
                    drain_until = time.monotonic() + DRAIN_AFTER_EXIT_S
                    continue
                descriptor = key.fileobj if isinstance(key.fileobj, int) else key.fileobj.fileno()
                chunk = os.read(descriptor, 1 << 16)
                if not chunk:
                    selector.unregister(key.fileobj)
                    continue
                if key.data == "status":
                    status_text += chunk[:4096]
                    continue
                kept = outcome.stdout if key.data == "stdout" else outcome.stderr
                kept += chunk[: max(0, OUTPUT_CAP - len(kept))]
                if key.data == "stdout":
                    outcome.stdout_total += len(chunk)
                else:
                    outcome.stderr_total += len(chunk)
                if outcome.stdout_total + outcome.stderr_total > OUTPUT_LIMIT and outcome.exit_status is None and not outcome.output_exceeded:
                    outcome.output_exceeded = True
                    stop()
    finally:
        if outcome.exit_status is None:
            stop()
            _, wait_status, usage = os.wait4(process.pid, 0)
            outcome.exit_status = os.waitstatus_to_exitcode(wait_status)
            outcome.peak_memory_mb = usage.ru_maxrss / 1024
            process.returncode = outcome.exit_status
        selector.close()
        os.close(pidfd)
        process.stdout.close()
        process.stderr.close()
        if backend.status_fd is not None:
            os.close(backend.status_fd)
    outcome.duration_s = time.monotonic() - started
    if backend.status_fd is not None:
        outcome.started = b'"child-pid"' in status_text
    return outcome


# Files the sandbox wrote, read without following links


def open_regular(path: Path, limit: int) -> int | None:
    """Open a file the sandbox could have replaced; None unless it is a regular file within `limit` bytes."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    info = os.fstat(descriptor)
    if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
        os.close(descriptor)
        return None
    return descriptor


def read_report(workdir: Path) -> dict | None:
    descriptor = open_regular(workdir / "result.json", REPORT_LIMIT)
    if descriptor is None:
        return None
    with os.fdopen(descriptor, "rb") as handle:
        text = handle.read(REPORT_LIMIT)
    try:
        report = json.loads(text)
    except ValueError:
        return None
    return report if isinstance(report, dict) else None


def check_output(workdir: Path, line_numbers: list[int], limit_bytes: int) -> pa.Table:
    """Read output.parquet and enforce the output contract on the caller's side.

    The runner checks the same things, but the script runs in the runner's process and could
    have written both output.parquet and result.json itself.
    """
    descriptor = open_regular(workdir / "output.parquet", limit_bytes)
    if descriptor is None:
        raise InvalidOutput("output.parquet is missing, not a regular file or larger than the file-size limit")
    with os.fdopen(descriptor, "rb") as handle:
        try:
            table = pq.read_table(pa.BufferReader(handle.read()))
        except (pa.ArrowException, OSError, ValueError) as error:
            raise InvalidOutput(f"output.parquet is not a readable Parquet file: {error}") from error
    if table.num_columns == 0 or table.column_names[0] != "_line":
        raise InvalidOutput("output.parquet does not start with the _line column")
    if table.num_rows > len(line_numbers):
        raise InvalidOutput(f"the output has {table.num_rows} rows for {len(line_numbers)} input rows")
    lines = table.column("_line").to_pylist()
    if len(set(lines)) != len(lines):
        raise InvalidOutput("the output repeats a source line")
    unknown = set(lines) - set(line_numbers)
    if unknown:
        raise InvalidOutput(f"the output has source lines that are not in the input: {sorted(unknown, key=str)[:5]}")
    for name, column_type in zip(table.column_names[1:], table.schema.types[1:]):
        if not (pa.types.is_string(column_type) or pa.types.is_large_string(column_type) or pa.types.is_null(column_type)):
            raise InvalidOutput(f"output column {name!r} has type {column_type}, expected text")
    return table


# The result


def describe_exit(outcome: ChildOutcome, backend: Backend, limits: Limits) -> tuple[str, str, str]:
    """Return (status, error_name, message) for a sandbox process that wrote no usable report."""
    code = outcome.exit_status
    signal_number = -code if code is not None and code < 0 else None
    if signal_number is None and backend.name == "bwrap" and code is not None and code > 128:
        signal_number = code - 128  # bwrap exits with 128 + N when its command died by signal N
    if signal_number is not None:
        try:
            known = signal.Signals(signal_number)
        except ValueError:
            known = None
        if known in SIGNAL_ERRORS:
            error_name, template = SIGNAL_ERRORS[known]
            return "killed", error_name, template.format(cpu_s=limits.cpu_s, file_size_mb=limits.file_size_mb)
        name = known.name if known else f"signal {signal_number}"
        return "killed", "ProcessKilled", f"the sandbox process ended by {name}"
    return "error", "NoResult", f"the sandbox process exited with status {code} without writing a result"


def finish(result: SandboxResult, outcome: ChildOutcome, backend: Backend, limits: Limits, workdir: Path, line_numbers: list[int], keep_output: Path | None) -> SandboxResult:
    if not outcome.started:
        result.status, result.error_name = "error", "SandboxSetupError"
        result.message = f"bubblewrap could not start the sandbox: {result.stderr.strip()[-500:]}"
        return result
    if backend.name == "process" and outcome.exit_status == NETWORK_SETUP_FAILED:
        result.status, result.error_name = "error", "SandboxSetupError"
        result.message = "could not create a network namespace for the sandbox"
        return result
    if outcome.timed_out:
        result.status, result.error_name = "timeout", "Timeout"
        result.message = f"the script ran longer than {limits.timeout_s:g} s and was stopped"
        return result
    if outcome.output_exceeded:
        result.status, result.error_name = "killed", "OutputLimitExceeded"
        result.message = f"the script wrote more than {OUTPUT_LIMIT >> 20} MiB to stdout and stderr and was stopped"
        return result

    report = read_report(workdir)
    if report is None:
        result.status, result.error_name, result.message = describe_exit(outcome, backend, limits)
        return result
    if report.get("status") != "ok":
        result.status = "error"
        result.error_name = str(report.get("error_name") or "UnknownError")[:200]
        result.message = str(report.get("message") or "")[:2000]
        result.traceback = str(report.get("traceback") or "")[-8000:] or None
        if result.error_name == "MemoryError" and not result.message:
            result.message = f"the script exceeded the memory limit of {limits.memory_mb} MiB"
        return result
    if outcome.exit_status != 0:
        result.status, result.error_name = "error", "InvalidOutput"
        result.message = f"the sandbox process reported success but exited with status {outcome.exit_status}"
        return result

    try:
        table = check_output(workdir, line_numbers, limits.file_size_mb << 20)
    except InvalidOutput as error:
        result.status, result.error_name, result.message = "error", "InvalidOutput", str(error)
        return result
    target = keep_output or Path(tempfile.mkdtemp(prefix="onboard-output-")) / "output.parquet"
    target.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, target)
    result.output_path = str(target)
    result.rows = table.num_rows
    return result


def prepare_workdir(script: str, table: pd.DataFrame, line_numbers: list[int]) -> Path:
    """Write the input files into a new private folder; files the sandbox writes belong to nobody."""
    workdir = Path(tempfile.mkdtemp(prefix="onboard-sandbox-"))
    frame = table.copy()
    frame.insert(0, "_line", pd.Series(line_numbers, index=frame.index, dtype="int64"))
    frame.columns = [str(c) for c in frame.columns]
    frame.reset_index(drop=True).to_parquet(workdir / "input.parquet", index=False)
    (workdir / "script.py").write_text(script, encoding="utf-8")
    for name in ("output.parquet", "result.json"):
        (workdir / name).touch(mode=0o600)
    for name in ("input.parquet", "script.py"):
        os.chmod(workdir / name, 0o644)
    if os.geteuid() == 0:
        # The fallback backend writes into the folder itself; bwrap only into the two bound files.
        for path in (workdir, workdir / "output.parquet", workdir / "result.json"):
            os.chown(path, UNPRIVILEGED_UID, UNPRIVILEGED_UID)
    os.chmod(workdir, 0o700)
    return workdir


def run_script(
    script: str,
    table: pd.DataFrame,
    line_numbers: list[int],
    timeout_s: float = 120,
    memory_mb: int = 2048,
    check_policy: bool = True,
    keep_output: Path | None = None,
    file_size_mb: int = FILE_SIZE_MB,
    backend: str | None = None,
) -> SandboxResult:
    """Run `script`'s transform on `table` in the sandbox; never raises for the script's faults.

    `backend` is auto, bwrap or process; None reads ONBOARD_SANDBOX_BACKEND (default auto).
    """
    if check_policy:
        problems = check_script(script)
        if problems:
            return SandboxResult(status="policy_violation", error_name="PolicyViolation", message="; ".join(problems))

    limits = Limits(memory_mb=memory_mb, cpu_s=math.ceil(timeout_s) + 1, file_size_mb=file_size_mb, timeout_s=timeout_s)
    requested = backend or os.environ.get("ONBOARD_SANDBOX_BACKEND", "auto")
    workdir = prepare_workdir(script, table, line_numbers)
    try:
        chosen = select_backend(requested, python_layout(), workdir, limits)
        if isinstance(chosen, str):
            return SandboxResult(status="error", error_name="SandboxSetupError", message=chosen)
        try:
            outcome = supervise(chosen, workdir, limits)
        except OSError as error:
            log.exception("could not start the sandbox process (backend %s)", chosen.name)
            return SandboxResult(status="error", error_name="SandboxSetupError", message=f"could not start the sandbox process: {error}", backend=chosen.name, isolation=chosen.isolation)
        result = SandboxResult(
            status="ok",
            stdout=outcome.stdout.decode("utf-8", "replace"),
            stderr=outcome.stderr.decode("utf-8", "replace"),
            stdout_truncated=outcome.stdout_total > len(outcome.stdout),
            stderr_truncated=outcome.stderr_total > len(outcome.stderr),
            duration_s=round(outcome.duration_s, 3),
            peak_memory_mb=round(outcome.peak_memory_mb, 1),
            exit_status=outcome.exit_status,
            backend=chosen.name,
            isolation=chosen.isolation,
        )
        return finish(result, outcome, chosen, limits, workdir, line_numbers, keep_output)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
