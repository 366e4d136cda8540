"""E2B backend of the sandbox: runs a generated script in a remote E2B sandbox.

Used by `serverless.sandbox.run_script` when ONBOARD_SANDBOX_BACKEND is `e2b`, or `auto` with
E2B_API_KEY set. It returns the same SandboxResult as the local backends and applies the same
output contract, because the result is finished by `serverless.sandbox.finish_outcome`.

One run is one new sandbox, killed afterwards. The backend uploads the script, the input table
(input.parquet), the sandbox runner and the `onboard` package modules that generated scripts
import. A short harness cell starts the runner as a child process under rlimits and a
wall-clock timeout, and the backend then downloads result.json and output.parquet. The SDK reads E2B_API_KEY,
E2B_DOMAIN and, for a self-hosted or local API, E2B_API_URL and E2B_SANDBOX_URL.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
import uuid
from pathlib import Path

import pandas as pd

from serverless.sandbox import (
    OUTPUT_CAP,
    OPEN_FILES_LIMIT,
    PROCESS_LIMIT,
    REPORT_LIMIT,
    RUNNER,
    Backend,
    ChildOutcome,
    Limits,
    SandboxResult,
    finish_outcome,
    prepare_workdir,
)

log = logging.getLogger(__name__)

BACKEND_NAME = "e2b"
# Extra seconds the remote cell may take beyond the script's own timeout (starting the
# interpreter, reading the captured output) before the backend gives up on the request.
CELL_GRACE_S = 30
# Seconds the sandbox may live beyond the script's timeout before E2B removes it by itself,
# so that a crashed caller does not leave a sandbox running.
SANDBOX_LIFETIME_GRACE_S = 120
JOB_PREFIX = "onboard-job-"

# Runs in the sandbox's Python kernel. It starts the runner as a child process in its own
# session with rlimits, stops the session at the timeout, and writes outcome.json. The
# runner's stdout and stderr go to files, whose size RLIMIT_FSIZE bounds.
HARNESS = r'''
import json, os, resource, signal, subprocess, sys, time
config = json.loads(CONFIG_JSON)
job = os.path.join(os.path.expanduser("~"), config["job"])

def limit():
    memory = config["memory_mb"] << 20
    file_size = config["file_size_mb"] << 20
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (config["cpu_s"], config["cpu_s"] + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_size, file_size))
    resource.setrlimit(resource.RLIMIT_NOFILE, (config["open_files"], config["open_files"]))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

environment = {"PATH": "/usr/bin:/bin:" + os.path.dirname(sys.executable), "HOME": job, "LANG": "C.UTF-8",
               "TZ": "UTC", "PYTHONPATH": os.path.join(job, "lib"), "OMP_NUM_THREADS": "1"}
command = [sys.executable, "-B", "-X", "utf8", os.path.join(job, "sandbox_runner.py"), job,
           "--max-processes", str(config["max_processes"])]
started = time.monotonic()
timed_out = False
with open(os.path.join(job, "stdout.txt"), "wb") as out, open(os.path.join(job, "stderr.txt"), "wb") as err:
    child = subprocess.Popen(command, cwd=job, env=environment, stdin=subprocess.DEVNULL, stdout=out,
                             stderr=err, preexec_fn=limit, start_new_session=True)
    try:
        status = child.wait(timeout=config["timeout_s"])
    except subprocess.TimeoutExpired:
        timed_out = True
        os.killpg(child.pid, signal.SIGKILL)
        status = child.wait()
try:
    os.killpg(child.pid, signal.SIGKILL)  # children the script left behind in its session
except ProcessLookupError:
    pass
usage = resource.getrusage(resource.RUSAGE_CHILDREN)

def captured(name):
    path = os.path.join(job, name)
    with open(path, "rb") as handle:
        head = handle.read(config["output_cap"])
    return head.decode("utf-8", "replace"), os.path.getsize(path)

stdout, stdout_total = captured("stdout.txt")
stderr, stderr_total = captured("stderr.txt")
with open(os.path.join(job, "outcome.json"), "w") as handle:
    json.dump({"exit_status": status, "timed_out": timed_out, "duration_s": time.monotonic() - started,
               "peak_memory_mb": usage.ru_maxrss / 1024, "stdout": stdout, "stderr": stderr,
               "stdout_total": stdout_total, "stderr_total": stderr_total}, handle)
'''


def configured() -> bool:
    """True when an E2B API key is set, which makes `auto` choose this backend."""
    return bool(os.environ.get("E2B_API_KEY"))


def isolation(limits: Limits) -> list[str]:
    return [
        "E2B: a remote sandbox (its own virtual machine) created for this run and killed after it",
        "sandbox created with internet access off",
        f"rlimits on the script's process: address space {limits.memory_mb} MiB, CPU time {limits.cpu_s} s, "
        f"file size {limits.file_size_mb} MiB, {OPEN_FILES_LIMIT} open files, {PROCESS_LIMIT} processes",
        f"wall-clock timeout {limits.timeout_s:g} s stops the script's whole session",
        f"stdout and stderr kept up to {OUTPUT_CAP} bytes each",
    ]


def package_files() -> dict[str, bytes]:
    """Return the `onboard` package's top-level modules, which generated scripts import as `onboard.transforms`."""
    package = Path(__file__).resolve().parents[1] / "onboard"
    return {f"lib/onboard/{path.name}": path.read_bytes() for path in sorted(package.glob("*.py"))}


def failure(error_name: str, message: str, limits: Limits, status: str = "error", duration_s: float = 0.0) -> SandboxResult:
    return SandboxResult(status=status, error_name=error_name, message=message, backend=BACKEND_NAME,
                         isolation=isolation(limits), duration_s=round(duration_s, 3))


def run_in_e2b(script: str, table: pd.DataFrame, line_numbers: list[int], limits: Limits, keep_output: Path | None = None) -> SandboxResult:
    """Run `script`'s transform on `table` in a new E2B sandbox; faults come back as a result."""
    if not configured():
        return failure("SandboxSetupError", "the e2b sandbox backend needs E2B_API_KEY; set it or choose ONBOARD_SANDBOX_BACKEND=auto", limits)
    try:
        from e2b_code_interpreter import Sandbox
        from e2b.exceptions import TimeoutException as E2BTimeout
    except ImportError as error:
        return failure("SandboxSetupError", f"the e2b backend needs the e2b-code-interpreter package: {error}", limits)

    started = time.monotonic()
    workdir = prepare_workdir(script, table, line_numbers)
    try:
        outcome = run_remote(Sandbox, E2BTimeout, script, workdir, limits, started)
        if isinstance(outcome, SandboxResult):
            return outcome
        return finish_remote(outcome, limits, workdir, line_numbers, keep_output)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def run_remote(sandbox_class, timeout_error, script: str, workdir: Path, limits: Limits, started: float) -> ChildOutcome | SandboxResult:
    """Create a sandbox, run the job in it and copy result.json and output.parquet into `workdir`."""
    job = f"{JOB_PREFIX}{uuid.uuid4().hex[:12]}"
    sandbox = None
    stage = "create the sandbox"
    try:
        sandbox = sandbox_class.create(timeout=int(limits.timeout_s) + SANDBOX_LIFETIME_GRACE_S, allow_internet_access=False)
        stage = "upload the job files"
        uploads = {"input.parquet": (workdir / "input.parquet").read_bytes(), "script.py": script.encode("utf-8"),
                   "sandbox_runner.py": RUNNER.read_bytes(), **package_files()}
        # Paths relative to the sandbox user's home folder, where the harness looks for them.
        sandbox.files.write_files([{"path": f"{job}/{name}", "data": data} for name, data in uploads.items()])
        stage = "run the script"
        config = {"job": job, "timeout_s": limits.timeout_s, "memory_mb": limits.memory_mb, "cpu_s": limits.cpu_s,
                  "file_size_mb": limits.file_size_mb, "open_files": OPEN_FILES_LIMIT, "max_processes": PROCESS_LIMIT,
                  "output_cap": OUTPUT_CAP}
        cell = HARNESS.replace("CONFIG_JSON", repr(json.dumps(config)), 1)
        execution = sandbox.run_code(cell, timeout=limits.timeout_s + CELL_GRACE_S)
        if execution.error is not None:
            message = f"the harness failed in the E2B sandbox: {execution.error.name}: {execution.error.value}"
            return failure("SandboxSetupError", message[:2000], limits, duration_s=time.monotonic() - started)
        stage = "download the results"
        outcome = outcome_from(json.loads(download(sandbox, f"{job}/outcome.json") or b"{}"))
        for name, limit in (("result.json", REPORT_LIMIT), ("output.parquet", limits.file_size_mb << 20)):
            data = download(sandbox, f"{job}/{name}")
            # One byte over the limit is kept so that the size check in finish() rejects the file.
            (workdir / name).write_bytes(data[: limit + 1] if data is not None else b"")
        return outcome
    except timeout_error as error:
        message = f"the E2B sandbox did not respond in time while trying to {stage}: {error}"
        return failure("Timeout", message[:2000], limits, status="timeout", duration_s=time.monotonic() - started)
    except Exception as error:  # SandboxException, AuthenticationException, ServiceBusyException and httpx errors share no base class
        log.warning("E2B sandbox failed while trying to %s: %s", stage, error)
        message = f"the E2B sandbox failed while trying to {stage}: {type(error).__name__}: {error}"
        return failure("SandboxSetupError", message[:2000], limits, duration_s=time.monotonic() - started)
    finally:
        if sandbox is not None:
            try:
                sandbox.kill()
            except Exception as error:  # it expires by itself after its lifetime
                log.warning("could not kill E2B sandbox %s: %s", sandbox.sandbox_id, error)


def download(sandbox, path: str) -> bytes | None:
    from e2b.exceptions import NotFoundException

    try:
        return bytes(sandbox.files.read(path, format="bytes"))
    except NotFoundException:
        return None


def outcome_from(report: dict) -> ChildOutcome:
    stdout, stderr = str(report.get("stdout", "")), str(report.get("stderr", ""))
    status = report.get("exit_status")
    return ChildOutcome(
        exit_status=int(status) if status is not None else None,
        peak_memory_mb=float(report.get("peak_memory_mb") or 0.0),
        duration_s=float(report.get("duration_s") or 0.0),
        stdout=bytearray(stdout.encode("utf-8")[:OUTPUT_CAP]),
        stderr=bytearray(stderr.encode("utf-8")[:OUTPUT_CAP]),
        stdout_total=int(report.get("stdout_total") or 0),
        stderr_total=int(report.get("stderr_total") or 0),
        timed_out=bool(report.get("timed_out")),
    )


def finish_remote(outcome: ChildOutcome, limits: Limits, workdir: Path, line_numbers: list[int], keep_output: Path | None) -> SandboxResult:
    backend = Backend(name=BACKEND_NAME, command=[], preexec=lambda: None, isolation=isolation(limits))
    return finish_outcome(outcome, backend, limits, workdir, line_numbers, keep_output)
