"""Local sandbox: runs a generated script in a separate, confined process.

Two backends, chosen by `run_script(backend=...)` or ONBOARD_SANDBOX_BACKEND (auto, bwrap, process):

- bwrap (bubblewrap): own mount, PID, network, IPC, UTS and cgroup namespaces and a seccomp
  filter. The sandbox contains read-only binds of only the interpreter's prefix, the shared
  libraries, the site-packages and the `onboard` package, plus a size-limited tmpfs for /tmp
  and for its working folder. Its only host-visible writable files are output.parquet and
  result.json. The script runs as user nobody (65534) with no capabilities.
- process: the fallback where bubblewrap is missing or fails its start check. A separate
  process with its own network namespace when the product runs as root, switched to user
  nobody after its imports, but with no mount namespace. The result's `isolation` list names
  what it leaves open.

Both set rlimits (address space, CPU time, file size, open files, processes) before exec and
stop the whole sandbox at a wall-clock timeout. `auto` uses bwrap when it works and the
fallback otherwise; `bwrap` never falls back. No backend runs the script in the caller's process.

A third backend, E2B (serverless/sandbox_e2b.py), runs the script in a remote sandbox. It is
used when ONBOARD_SANDBOX_BACKEND is `e2b`, or `auto` with E2B_API_KEY set.
"""

from __future__ import annotations

import ctypes
import hashlib
from collections import Counter
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
import struct
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
# As root, each sandbox runs as its own user id from this range, because RLIMIT_NPROC counts
# the processes and threads of a user id host-wide. With one shared id, concurrent sandboxes
# (and a fork bomb in any of them) used up one budget, and a normal script hung at start.
# The ids have no passwd entry and own no host file.
SANDBOX_UID_BASE = 0x7E000000
SANDBOX_UID_SPAN = 1 << 20
CLONE_NEWNET = 0x40000000
NETWORK_SETUP_FAILED = 97  # exit status of the fallback's preexec when unshare() fails

OUTPUT_CAP = 20_000  # bytes of stdout and of stderr kept in the result
OUTPUT_LIMIT = 8 << 20  # bytes of stdout plus stderr after which the sandbox is stopped
REPORT_LIMIT = 200_000  # bytes of result.json read
FILE_SIZE_MB = 1024  # default RLIMIT_FSIZE, which also bounds output.parquet
SCRATCH_MB = 64  # size of each tmpfs (/tmp and the working folder) in the bwrap backend
OPEN_FILES_LIMIT = 256
# RLIMIT_NPROC, which counts threads too; per sandbox user id (see SANDBOX_UID_BASE).
PROCESS_LIMIT = 64
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
    peak_memory_mb: float = Field(0.0, description="largest peak resident set size among the sandbox processes, from wait4()")
    exit_status: int | None = Field(None, description="exit status of the sandbox process, negative for a signal")
    backend: str | None = Field(None, description="bwrap or process, or None when no sandbox process ran")
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
    environment: dict[str, str] = field(default_factory=dict)
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
    package: str  # the `onboard` package folder, the only product code inside the sandbox

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

    Run as root, bwrap creates parent folders with mode 0700, which the user nobody cannot
    enter. A mount inside an earlier read-only bind is left out because that bind contains it.
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


def sandbox_environment(home: str) -> dict[str, str]:
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": home,
        "LANG": "C.UTF-8",
        "TZ": "UTC",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }


# Seccomp filter for the bwrap backend (x86_64 only)

AUDIT_ARCH_X86_64 = 0xC000003E
X32_SYSCALL_BIT = 0x40000000
NAMESPACE_CLONE_FLAGS = 0x7E020080  # CLONE_NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET, NEWTIME
SECCOMP_RET_ALLOW = 0x7FFF0000
SECCOMP_RET_ERRNO = 0x00050000
SECCOMP_RET_KILL_PROCESS = 0x80000000
EPERM, ENOSYS = 1, 38

# x86_64 numbers of the system calls that create or enter namespaces, mount, trace other
# processes, or reach kernel interfaces that a data transform never needs.
DENIED_SYSCALLS_X86_64 = {
    "unshare": 272, "setns": 308, "mount": 165, "umount2": 166, "pivot_root": 155, "chroot": 161,
    "ptrace": 101, "process_vm_readv": 310, "process_vm_writev": 311, "keyctl": 250, "add_key": 248,
    "request_key": 249, "bpf": 321, "perf_event_open": 298, "userfaultfd": 323, "io_uring_setup": 425,
    "io_uring_enter": 426, "io_uring_register": 427, "kexec_load": 246, "kexec_file_load": 320,
    "init_module": 175, "finit_module": 313, "delete_module": 176, "name_to_handle_at": 303,
    "open_by_handle_at": 304, "open_tree": 428, "move_mount": 429, "fsopen": 430, "fsconfig": 431,
    "fsmount": 432, "fspick": 433, "mount_setattr": 442,
}
CLONE_X86_64, CLONE3_X86_64 = 56, 435


def seccomp_filter() -> bytes | None:
    """Return a classic BPF seccomp program for bwrap --seccomp, or None off x86_64.

    Denied calls fail with EPERM, and clone() does too when its flags request a namespace.
    clone3() fails with ENOSYS, so that the C library falls back to clone(). A call through
    another ABI (i386, x32) kills the process. As root, bwrap cannot forbid nested user
    namespaces itself because that needs its own user namespace, so this filter does it.
    """
    if os.uname().machine != "x86_64":
        return None
    load, jump_equal, jump_above_equal, jump_set, ret = 0x20, 0x15, 0x35, 0x45, 0x06
    program: list[tuple] = [
        (load, None, None, 4),  # seccomp_data.arch
        (jump_equal, None, "kill", AUDIT_ARCH_X86_64),
        (load, None, None, 0),  # seccomp_data.nr
        (jump_above_equal, "kill", None, X32_SYSCALL_BIT),
        (jump_equal, "enosys", None, CLONE3_X86_64),
        (jump_equal, "clone", None, CLONE_X86_64),
    ]
    program += [(jump_equal, "eperm", None, number) for number in DENIED_SYSCALLS_X86_64.values()]
    program += [
        (ret, None, None, SECCOMP_RET_ALLOW),
        ("label", "clone"), (load, None, None, 16),  # low 32 bits of seccomp_data.args[0], the flags
        (jump_set, "eperm", None, NAMESPACE_CLONE_FLAGS),
        (ret, None, None, SECCOMP_RET_ALLOW),
        ("label", "eperm"), (ret, None, None, SECCOMP_RET_ERRNO | EPERM),
        ("label", "enosys"), (ret, None, None, SECCOMP_RET_ERRNO | ENOSYS),
        ("label", "kill"), (ret, None, None, SECCOMP_RET_KILL_PROCESS),
    ]
    labels, instructions = {}, []
    for item in program:
        if item[0] == "label":
            labels[item[1]] = len(instructions)
        else:
            instructions.append(item)
    encoded = bytearray()
    for index, (code, true_label, false_label, constant) in enumerate(instructions):
        # Classic BPF jumps only forward, by the number of instructions to skip; None falls through.
        true_offset = labels[true_label] - index - 1 if true_label else 0
        false_offset = labels[false_label] - index - 1 if false_label else 0
        encoded += struct.pack("<HBBI", code, true_offset, false_offset, constant)
    return bytes(encoded)


def seccomp_descriptor() -> int | None:
    """Return the read end of a pipe that contains the seccomp program, or None off x86_64."""
    program = seccomp_filter()
    if program is None:
        return None
    read_end, write_end = os.pipe()
    os.write(write_end, program)  # a few hundred bytes, well within the pipe buffer
    os.close(write_end)
    return read_end


# Backends


def sandbox_uid(workdir: Path | None) -> int:
    """Return the user id a run's script runs as: its own when the product runs as root, else 65534 (nobody).

    Derived from the run's private working folder, so every part of one run agrees on it.
    """
    if workdir is None or os.geteuid() != 0:
        return UNPRIVILEGED_UID
    digest = hashlib.sha256(workdir.name.encode("utf-8")).digest()
    return SANDBOX_UID_BASE + int.from_bytes(digest[:4], "big") % SANDBOX_UID_SPAN


def bwrap_command(bwrap: str, setpriv: str | None, layout: PythonLayout, workdir: Path | None, payload: list[str], seccomp_fd: int | None) -> list[str]:
    """Build the bwrap command line. With `workdir` None it leaves out the working files (start check).

    As root, bwrap creates no user namespace and setpriv switches the payload to the real user
    nobody, so RLIMIT_NPROC applies to it. The kernel exempts root from RLIMIT_NPROC, also root
    mapped into a user namespace. Without root, bwrap maps nobody inside to the invoking user
    outside. The runner's --init mode is PID 1 and starts the payload (sandbox_runner.run_as_init).
    """
    as_root = setpriv is not None
    command = [bwrap, "--die-with-parent", "--new-session", "--as-pid-1"]
    if as_root:
        command += ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try"]
        # PID 1 keeps only what setpriv needs to switch user and what stopping the payload needs.
        command += ["--cap-drop", "ALL"]
        for capability in ("CAP_SETUID", "CAP_SETGID", "CAP_SETPCAP", "CAP_KILL"):
            command += ["--cap-add", capability]
    else:
        command += ["--unshare-all", "--unshare-user", "--disable-userns", "--uid", str(UNPRIVILEGED_UID), "--gid", str(UNPRIVILEGED_UID)]
    if seccomp_fd is not None:
        command += ["--seccomp", str(seccomp_fd)]
    command += ["--hostname", HOSTNAME, "--clearenv"]
    for key, value in sandbox_environment(SANDBOX_WORKDIR).items():
        command += ["--setenv", key, value]

    # The scratch /tmp comes first: binds made after it stay visible on top of it, which
    # matters when the product or its virtual environment lives under the host's /tmp.
    command += ["--perms", "1777", "--size", str(SCRATCH_MB << 20), "--tmpfs", "/tmp"]
    mounts = system_mounts()
    mounts += [("--ro-bind", folder, folder) for folder in (*layout.prefixes, *layout.library_paths, layout.package)]
    mounts.append(("--ro-bind", str(RUNNER), SANDBOX_RUNNER))
    if setpriv:
        mounts.append(("--ro-bind", setpriv, setpriv))
    command += mount_arguments(mounts)
    command += ["--proc", "/proc", "--dev", "/dev"]
    command += ["--perms", "1777", "--size", str(SCRATCH_MB << 20), "--tmpfs", SANDBOX_WORKDIR]
    if workdir is not None:
        for name in ("input.parquet", "script.py"):
            command += ["--ro-bind", str(workdir / name), f"{SANDBOX_WORKDIR}/{name}"]
        for name in ("output.parquet", "result.json"):
            command += ["--bind", str(workdir / name), f"{SANDBOX_WORKDIR}/{name}"]
    command += ["--chdir", SANDBOX_WORKDIR]

    command += [layout.executable, "-I", "-S", "-B", SANDBOX_RUNNER, "--init", "--"]
    if as_root:
        uid = str(sandbox_uid(workdir))
        command += [setpriv, "--reuid", uid, "--regid", uid, "--clear-groups", "--inh-caps=-all", "--bounding-set=-all", "--"]
    return command + payload


def runner_arguments(python: str, runner: str, workdir: str, layout: PythonLayout) -> list[str]:
    arguments = [python, "-I", "-S", "-B", "-X", "utf8", runner, workdir]
    for folder in layout.import_paths:
        arguments += ["--path", folder]
    return arguments


def limit_child(limits: Limits, nproc_in_preexec: bool, isolate_network: bool) -> Callable[[], None]:
    """Return the preexec function, which starts a session, optionally unshares the network and sets rlimits."""

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
    seccomp_fd = seccomp_descriptor()
    command = bwrap_command(bwrap, setpriv, layout, workdir, payload, seccomp_fd)
    status_read, status_write = os.pipe()
    command[1:1] = ["--json-status-fd", str(status_write)]
    isolation = [
        "bubblewrap: own mount, PID, network, IPC, UTS and cgroup namespaces" + ("" if as_root else " and a user namespace"),
        "seccomp: no new namespaces, mounts, ptrace, keyrings, BPF, perf events, io_uring or kernel modules"
        if seccomp_fd is not None else "NOTE: no seccomp filter (written for x86_64 only): nested namespaces are possible",
        "read-only view of only the interpreter, the shared libraries, site-packages and the onboard package",
        f"writable: a {SCRATCH_MB} MiB tmpfs /tmp and working folder, plus output.parquet and result.json",
        "no network (empty network namespace)",
        (f"runs as an unprivileged user of its own (id {sandbox_uid(workdir)}) with no capabilities and no_new_privs" if as_root
         else "runs as nobody in a user namespace (the invoking user outside) with no capabilities and no_new_privs"),
        *limit_descriptions(limits, processes=True),
    ]
    return Backend(
        name="bwrap",
        command=command,
        preexec=limit_child(limits, nproc_in_preexec=as_root, isolate_network=False),
        isolation=isolation,
        pass_fds=(status_write,) if seccomp_fd is None else (status_write, seccomp_fd),
        status_fd=status_read,
    )


def process_backend(layout: PythonLayout, workdir: Path, limits: Limits, reason: str) -> Backend:
    as_root = os.geteuid() == 0
    command = runner_arguments(layout.executable, str(RUNNER), str(workdir), layout)
    if as_root:
        command += ["--drop-to", str(sandbox_uid(workdir))]
    isolation = [
        f"NOTE: fallback backend, weaker than bubblewrap ({reason}): a separate process with no mount or PID namespace",
        "own network namespace (no network)" if as_root else "NOTE: network not isolated (needs root for a network namespace)",
        f"runs as an unprivileged user of its own (id {sandbox_uid(workdir)}) after its imports; it can read every world-readable file, /etc/passwd included"
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
        environment=sandbox_environment(str(workdir)),
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
            # The check imports what every script needs, so a sandbox that cannot see the
            # libraries fails here, before any run, and auto mode falls back.
            probe = (
                f"import os, sys; sys.path[:0] = {list(layout.import_paths)!r}; "
                "import pandas, pyarrow.parquet; from onboard import transforms; "
                f"sys.exit(os.getuid() != {UNPRIVILEGED_UID})"
            )
            payload = [layout.executable, "-I", "-S", "-c", probe]
            seccomp_fd = seccomp_descriptor()
            command = bwrap_command(bwrap, setpriv, layout, None, payload, seccomp_fd)
            try:
                completed = subprocess.run(
                    command, stdin=subprocess.DEVNULL, capture_output=True, timeout=60, pass_fds=() if seccomp_fd is None else (seccomp_fd,)
                )
                failed = completed.returncode != 0
                detail = completed.stderr.decode("utf-8", "replace").strip()[-500:] or f"exit status {completed.returncode}"
            except (OSError, subprocess.SubprocessError) as error:
                failed, detail = True, str(error)
            finally:
                if seccomp_fd is not None:
                    os.close(seccomp_fd)
            _BWRAP_CHECKS[key] = f"bubblewrap failed its start check: {detail}" if failed else None
            if failed:
                log.warning("bubblewrap at %s failed its start check: %s", bwrap, detail)
    return _BWRAP_CHECKS[key]


def select_backend(requested: str, layout: PythonLayout, workdir: Path, limits: Limits) -> Backend | str:
    """Return the backend to use, or the reason none may be used."""
    if requested not in ("auto", "bwrap", "process"):
        return f"unknown sandbox backend {requested!r}; expected auto, bwrap, process or e2b"
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


class Supervisor:
    """One sandbox process: captures capped output, enforces the deadline, reaps it with wait4().

    `stop` sends SIGTERM to the bwrap sandbox's PID 1, which kills the payload and reaps it, so
    that wait4() still reports the payload's peak memory. The process group gets SIGKILL after
    STOP_GRACE_S. The fallback backend's process gets SIGKILL at once.
    """

    STOP_GRACE_S = 1.0

    def __init__(self, backend: Backend, cwd: Path, limits: Limits):
        self.backend = backend
        self.limits = limits
        self.outcome = ChildOutcome()
        self.started_at = time.monotonic()
        self.status_text = bytearray()
        self.init_pidfd: int | None = None
        self.hard_stop_at: float | None = None
        try:
            self.process = subprocess.Popen(
                backend.command,
                cwd=cwd,
                env=backend.environment or {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                preexec_fn=backend.preexec,
                pass_fds=backend.pass_fds,
            )
        except BaseException:
            if backend.status_fd is not None:
                os.close(backend.status_fd)
            raise
        finally:
            for descriptor in backend.pass_fds:
                os.close(descriptor)
        try:
            self.pidfd = os.pidfd_open(self.process.pid)
        except OSError:
            self.kill_group()
            self.reap()
            raise

    def run(self) -> ChildOutcome:
        selector = selectors.DefaultSelector()
        selector.register(self.pidfd, selectors.EVENT_READ, "exit")
        for stream, name in ((self.process.stdout, "stdout"), (self.process.stderr, "stderr")):
            os.set_blocking(stream.fileno(), False)
            selector.register(stream, selectors.EVENT_READ, name)
        if self.backend.status_fd is not None:
            selector.register(self.backend.status_fd, selectors.EVENT_READ, "status")
        deadline = self.started_at + self.limits.timeout_s
        drain_until: float | None = None
        try:
            while drain_until is None or (time.monotonic() < drain_until and selector.get_map()):
                now = time.monotonic()
                if self.outcome.exit_status is None:
                    if now >= deadline and not self.outcome.timed_out:
                        self.outcome.timed_out = True
                        self.stop()
                    if self.hard_stop_at is not None and now >= self.hard_stop_at:
                        self.kill_group()
                        self.hard_stop_at = math.inf  # sent once; the exit event ends the wait
                wake_at = drain_until or (deadline if now < deadline else now + 1.0)
                if self.hard_stop_at is not None and self.outcome.exit_status is None:
                    wake_at = min(wake_at, self.hard_stop_at)
                for key, _ in selector.select(timeout=max(wake_at - now, 0.0)):
                    if key.data == "exit":
                        selector.unregister(self.pidfd)
                        self.reap()
                        drain_until = time.monotonic() + DRAIN_AFTER_EXIT_S
                    elif not self.read(key):
                        selector.unregister(key.fileobj)
        finally:
            if self.outcome.exit_status is None:
                self.kill_group()
                self.reap()
            elif self.backend.name == "process":
                # Children of the fallback's process may outlive it in its process group. The
                # group id cannot be reused while such a member exists.
                self.kill_group()
            selector.close()
            self.close()
        self.outcome.duration_s = time.monotonic() - self.started_at
        if self.backend.status_fd is not None:
            self.outcome.started = b'"child-pid"' in self.status_text
        return self.outcome

    def read(self, key: selectors.SelectorKey) -> bool:
        """Read one chunk from a pipe and return False at end of file."""
        descriptor = key.fileobj if isinstance(key.fileobj, int) else key.fileobj.fileno()
        try:
            chunk = os.read(descriptor, 1 << 16)
        except BlockingIOError:
            return True
        if not chunk:
            return False
        if key.data == "status":
            self.status_text += chunk[: max(0, 4096 - len(self.status_text))]
            self.open_init_pidfd()
            return True
        kept = self.outcome.stdout if key.data == "stdout" else self.outcome.stderr
        kept += chunk[: max(0, OUTPUT_CAP - len(kept))]
        if key.data == "stdout":
            self.outcome.stdout_total += len(chunk)
        else:
            self.outcome.stderr_total += len(chunk)
        total = self.outcome.stdout_total + self.outcome.stderr_total
        if total > OUTPUT_LIMIT and not self.outcome.output_exceeded and self.outcome.exit_status is None:
            self.outcome.output_exceeded = True
            self.stop()
        return True

    def open_init_pidfd(self) -> None:
        """Open a pidfd on the sandbox's PID 1 once bwrap reports its host PID."""
        if self.init_pidfd is not None:
            return
        for line in bytes(self.status_text).splitlines():
            try:
                child_pid = json.loads(line).get("child-pid")
            except ValueError:
                continue
            if not isinstance(child_pid, int):
                continue
            try:
                pidfd = os.pidfd_open(child_pid)
                with open(f"/proc/{child_pid}/stat", "rb") as handle:
                    parent_pid = int(handle.read().rsplit(b")", 1)[1].split()[1])
            except OSError:
                return
            if parent_pid == self.process.pid:
                self.init_pidfd = pidfd
            else:
                os.close(pidfd)
            return

    def stop(self) -> None:
        if self.init_pidfd is not None and self.hard_stop_at is None:
            try:
                signal.pidfd_send_signal(self.init_pidfd, signal.SIGTERM)
                self.hard_stop_at = time.monotonic() + self.STOP_GRACE_S
                return
            except OSError:
                pass
        self.kill_group()

    def kill_group(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def reap(self) -> None:
        _, wait_status, usage = os.wait4(self.process.pid, 0)
        self.outcome.exit_status = os.waitstatus_to_exitcode(wait_status)
        self.outcome.peak_memory_mb = usage.ru_maxrss / 1024  # KiB on Linux
        self.process.returncode = self.outcome.exit_status

    def close(self) -> None:
        for descriptor in (self.pidfd, self.init_pidfd, self.backend.status_fd):
            if descriptor is not None:
                os.close(descriptor)
        self.process.stdout.close()
        self.process.stderr.close()


def supervise(backend: Backend, cwd: Path, limits: Limits) -> ChildOutcome:
    """Run the backend's command to its end (see Supervisor)."""
    return Supervisor(backend, cwd, limits).run()


# Files the sandbox wrote, read without following links


def open_regular(path: Path, limit: int) -> int | None:
    """Open a file the sandbox could have replaced. Return None unless it is a regular file of at most `limit` bytes."""
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
    # Several records may share one physical line (BAI2 writes several per line), so a line
    # may appear as often as it does in the input, never more.
    allowed = Counter(line_numbers)
    repeated = [line for line, count in Counter(lines).items() if count > allowed.get(line, 0)]
    if repeated:
        raise InvalidOutput(f"the output repeats source line(s) {sorted(repeated, key=str)[:5]}")
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
    """Write the input files into a new private folder, with the files the sandbox writes owned by its user."""
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
        uid = sandbox_uid(workdir)
        for path in (workdir, workdir / "output.parquet", workdir / "result.json"):
            os.chown(path, uid, uid)
    os.chmod(workdir, 0o700)
    return workdir


def finish_outcome(outcome: ChildOutcome, backend: Backend, limits: Limits, workdir: Path, line_numbers: list[int], keep_output: Path | None) -> SandboxResult:
    """Build the result of a finished sandbox process and check its output (any backend)."""
    result = SandboxResult(
        status="ok",
        stdout=outcome.stdout.decode("utf-8", "replace"),
        stderr=outcome.stderr.decode("utf-8", "replace"),
        stdout_truncated=outcome.stdout_total > len(outcome.stdout),
        stderr_truncated=outcome.stderr_total > len(outcome.stderr),
        duration_s=round(outcome.duration_s, 3),
        peak_memory_mb=round(outcome.peak_memory_mb, 1),
        exit_status=outcome.exit_status,
        backend=backend.name,
        isolation=backend.isolation,
    )
    return finish(result, outcome, backend, limits, workdir, line_numbers, keep_output)


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
    """Run `script`'s transform on `table` in the sandbox and return the result.

    Faults of the script (errors, limits, kills, invalid output) come back as a result, never
    as an exception. `backend` is auto, bwrap or process, and None reads ONBOARD_SANDBOX_BACKEND
    (default auto).
    """
    if check_policy:
        problems = check_script(script)
        if problems:
            return SandboxResult(status="policy_violation", error_name="PolicyViolation", message="; ".join(problems))

    limits = Limits(memory_mb=memory_mb, cpu_s=math.ceil(timeout_s) + 1, file_size_mb=file_size_mb, timeout_s=timeout_s)
    requested = backend or os.environ.get("ONBOARD_SANDBOX_BACKEND", "auto")
    if requested == "e2b" or (requested == "auto" and os.environ.get("E2B_API_KEY")):
        from serverless.sandbox_e2b import run_in_e2b  # imported here: it imports this module

        return run_in_e2b(script, table, line_numbers, limits, keep_output)
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
        return finish_outcome(outcome, chosen, limits, workdir, line_numbers, keep_output)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
