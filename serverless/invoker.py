"""Invoke a serverless function by name, locally or on AWS Lambda, with Lambda's semantics.

`ONBOARD_INVOKER` chooses where:

- `process` (default): a warm local worker process runs the handler. The invoker enforces the
  function's configured timeout and memory the way Lambda does (the worker is killed, the
  error is `Sandbox.Timedout` or `Runtime.OutOfMemory`), events and results cross as JSON and
  are held to Lambda's 6 MB synchronous payload limit.
- `inprocess`: the handler runs in this process; for debugging a handler with a debugger.
- `aws`: boto3 `lambda.invoke` on the function `ONBOARD_FUNCTION_PREFIX + name`.

A handler's error comes back as Lambda reports it (errorType, errorMessage, stackTrace) and is
raised as FunctionError; an error the user can act on (a bad input file) is raised as
OnboardError with its message. Only transient errors are retried.
"""

from __future__ import annotations

import atexit
import json
import multiprocessing
import os
import threading
import time
import traceback
from dataclasses import dataclass, field

from onboard.errors import rebuild
from serverless.events import FUNCTIONS as CONFIGS

FUNCTIONS = tuple(CONFIGS)
# Lambda's limit for a synchronous request and response payload.
PAYLOAD_LIMIT_BYTES = 6 * 1024 * 1024
# Environment a worker takes from its caller on each invocation: the function's configuration.
FORWARDED_PREFIXES = ("ONBOARD_", "AWS_", "E2B_")
TRANSIENT_LAMBDA_ERRORS = ("TooManyRequestsException", "ServiceException", "EC2ThrottledException", "ResourceNotReadyException")


class FunctionError(RuntimeError):
    """A handler failed: the Lambda-style errorType and errorMessage."""

    def __init__(self, function: str, error_type: str, message: str, stack: list[str] | None = None):
        self.function, self.error_type, self.error_message = function, error_type, message
        self.stack_trace = stack or []
        super().__init__(f"function {function} failed: {error_type}: {message}")


class TransientError(RuntimeError):
    """The invocation did not reach the handler (worker lost before the event was read, throttling)."""


def error_payload(error: BaseException) -> dict:
    """The body Lambda returns for an unhandled handler error."""
    return {
        "errorMessage": str(error),
        "errorType": type(error).__name__,
        "stackTrace": traceback.format_tb(error.__traceback__)[-8:],
    }


def raise_for_error(function: str, payload: dict) -> None:
    users = rebuild(payload.get("errorType") or "", payload.get("errorMessage", ""))
    if users is not None:
        raise users
    raise FunctionError(function, payload.get("errorType") or "Unhandled", payload.get("errorMessage", ""), payload.get("stackTrace"))


def _encode(function: str, data: dict, what: str) -> str:
    text = json.dumps(data, ensure_ascii=False, default=str)
    if len(text.encode("utf-8")) > PAYLOAD_LIMIT_BYTES:
        raise FunctionError(function, "RequestEntityTooLargeException" if what == "request" else "Function.ResponseSizeTooLarge",
                            f"the {what} payload is over Lambda's 6 MB limit; pass large data by object key")
    return text


def invoke(function: str, event: dict) -> dict:
    if function not in CONFIGS:
        raise ValueError(f"unknown function {function!r}; known: {', '.join(FUNCTIONS)}")
    mode = os.environ.get("ONBOARD_INVOKER", "process")
    retries = int(os.environ.get("ONBOARD_INVOKE_RETRIES", "2"))
    started = time.monotonic()
    for attempt in range(retries + 1):
        try:
            if mode == "process":
                result = _POOL.invoke(function, event)
            elif mode == "inprocess":
                result = _invoke_here(function, event)
            elif mode == "aws":
                result = _invoke_aws(function, event)
            else:
                raise ValueError(f"ONBOARD_INVOKER is {mode!r}; use process, inprocess or aws")
            break
        except TransientError:
            if attempt == retries:
                raise
            time.sleep(min(2.0, 0.2 * 2 ** attempt))
    if isinstance(result, dict):
        result.setdefault("_duration_s", round(time.monotonic() - started, 3))
    return result


def run_handler(function: str, event_text: str) -> tuple[bool, str]:
    """Validate the event and run the handler; returns (ok, JSON result or Lambda error body)."""
    import importlib

    try:
        event = CONFIGS[function].event.model_validate(json.loads(event_text))
        module = importlib.import_module(f"serverless.functions.{function}")
        result = module.handler(event.model_dump(mode="json", exclude_none=True), None)
        return True, _encode(function, result, "response")
    except FunctionError as error:
        return False, json.dumps({"errorMessage": error.error_message, "errorType": error.error_type, "stackTrace": []})
    except Exception as error:  # noqa: BLE001 - every handler error is reported, as Lambda does
        return False, json.dumps(error_payload(error), default=str)


def _invoke_here(function: str, event: dict) -> dict:
    ok, text = run_handler(function, _encode(function, event, "request"))
    payload = json.loads(text)
    if not ok:
        raise_for_error(function, payload)
    return payload


def _invoke_aws(function: str, event: dict) -> dict:
    import boto3
    import botocore.exceptions

    name = os.environ.get("ONBOARD_FUNCTION_PREFIX", "onboarding-agents-") + function
    client = boto3.client("lambda")
    try:
        response = client.invoke(FunctionName=name, InvocationType="RequestResponse", Payload=_encode(function, event, "request").encode("utf-8"))
    except botocore.exceptions.ClientError as error:
        if error.response.get("Error", {}).get("Code") in TRANSIENT_LAMBDA_ERRORS:
            raise TransientError(str(error)) from error
        raise FunctionError(function, error.response.get("Error", {}).get("Code", "ClientError"), str(error)) from error
    except (botocore.exceptions.ConnectionError, botocore.exceptions.ReadTimeoutError) as error:
        raise TransientError(str(error)) from error
    payload = json.loads(response["Payload"].read() or b"null")
    if response.get("FunctionError"):
        raise_for_error(function, payload if isinstance(payload, dict) else {"errorMessage": str(payload)})
    return payload


# Local worker processes --------------------------------------------------------------------

def _serve(connection) -> None:
    """Serve invocations one at a time, like a warm Lambda execution environment."""
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True, name="parent-watch").start()
    while True:
        try:
            request = connection.recv()
        except EOFError:
            return
        function, event_text, environment, cwd = request
        for name in [n for n in os.environ if n.startswith(FORWARDED_PREFIXES)]:
            if name not in environment:
                del os.environ[name]
        os.environ.update(environment)
        os.chdir(cwd)
        connection.send(run_handler(function, event_text))


def _exit_with_parent(parent: int) -> None:
    """End this worker at once when its caller is gone (killed, crashed).

    A killed run must not leave a worker finishing a load on its own: the open transaction is
    dropped with the process, and resuming the run loads the file whole.
    """
    while os.getppid() == parent:
        time.sleep(0.1)
    os._exit(70)


def _running(pid: int) -> bool:
    """True while `pid` is a live process (not gone, not a zombie).

    multiprocessing's own check reports a worker that another process has reaped as alive.
    """
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return False


def _rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/statm") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return 0.0


@dataclass
class _Worker:
    process: multiprocessing.process.BaseProcess
    connection: object
    invocations: int = 0


@dataclass
class _Pool:
    idle: list[_Worker] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _start(self) -> _Worker:
        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe()
        process = context.Process(target=_serve, args=(child,), daemon=True, name="onboard-function-worker")
        process.start()
        child.close()
        return _Worker(process, parent)

    def invoke(self, function: str, event: dict) -> dict:
        config = CONFIGS[function]
        timeout_s = float(os.environ.get("ONBOARD_FUNCTION_TIMEOUT_S", config.timeout_s))
        memory_mb = int(os.environ.get("ONBOARD_FUNCTION_MEMORY_MB", config.memory_mb))
        request = (function, _encode(function, event, "request"), {k: v for k, v in os.environ.items() if k.startswith(FORWARDED_PREFIXES)}, os.getcwd())
        worker = self._take_idle()
        try:
            worker.connection.send(request)
        except (BrokenPipeError, OSError) as error:
            self._discard(worker)
            raise TransientError(f"worker lost before the event was delivered: {error}") from error
        started = time.monotonic()
        peak = 0.0
        while not worker.connection.poll(0.05):
            elapsed = time.monotonic() - started
            peak = max(peak, _rss_mb(worker.process.pid))
            if elapsed > timeout_s:
                self._discard(worker)
                raise FunctionError(function, "Sandbox.Timedout", f"Task timed out after {timeout_s:.2f} seconds")
            if peak > memory_mb:
                self._discard(worker)
                raise FunctionError(function, "Runtime.OutOfMemory", f"Runtime exited with error: signal: killed (memory {peak:.0f} MB over the configured {memory_mb} MB)")
            if not worker.process.is_alive() or not _running(worker.process.pid):
                code = worker.process.exitcode
                self._discard(worker)
                raise FunctionError(function, "Runtime.ExitError", f"Runtime exited with error: exit status {code}")
        try:
            ok, text = worker.connection.recv()
        except EOFError as error:
            self._discard(worker)
            raise FunctionError(function, "Runtime.ExitError", "Runtime exited without a response") from error
        worker.invocations += 1
        # A worker that grew near its limit is replaced, as Lambda recycles environments.
        if _rss_mb(worker.process.pid) > 0.75 * memory_mb:
            self._discard(worker)
        else:
            with self.lock:
                self.idle.append(worker)
        payload = json.loads(text)
        if not ok:
            raise_for_error(function, payload)
        return payload

    def _take_idle(self) -> _Worker:
        """Return a warm worker that is still running, or start one; drop workers that died while idle."""
        while True:
            with self.lock:
                worker = self.idle.pop() if self.idle else None
            if worker is None:
                return self._start()
            if _running(worker.process.pid) and worker.process.is_alive():
                return worker
            self._discard(worker)

    def _discard(self, worker: _Worker) -> None:
        if worker.process.is_alive():
            worker.process.kill()
        worker.process.join(timeout=5)

    def close(self) -> None:
        with self.lock:
            workers, self.idle = self.idle, []
        for worker in workers:
            worker.connection.close()
            worker.process.join(timeout=2)
            self._discard(worker)


_POOL = _Pool()
atexit.register(_POOL.close)
