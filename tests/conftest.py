"""Shared fixtures: a private ONBOARD_HOME per test and the path to the real sample files."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]
REALDATA = PROJECT.parent / "shared" / "realdata"
SAMPLES = PROJECT / "samples"

pytest_plugins = ["tests.moto_server", "tests.e2b_standin", "tests.core_databases"]


@pytest.fixture(autouse=True)
def _no_real_aws(monkeypatch):
    """Point every AWS client at a closed local port with fake keys, so a test without the
    moto fixture fails at once instead of reaching AWS; the `aws` fixture overrides the endpoint."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)


MODEL_VARIABLES = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID", "ONBOARD_MODEL", "ONBOARD_MODEL_STREAMING")
# Bind addresses (None, "", 0.0.0.0) resolve without a lookup; every other name must be local.
LOCAL_HOSTS = {None, "", "localhost", "::1", "0.0.0.0", "::", "ip6-localhost"}


def _is_local(address) -> bool:
    if isinstance(address, (str, bytes)):
        return True  # AF_UNIX socket path
    host = address[0] if isinstance(address, tuple) and address else address
    if isinstance(host, bytes):
        host = host.decode()
    return host in LOCAL_HOSTS or str(host).startswith(("127.", "::ffff:127."))


@pytest.fixture(autouse=True)
def _no_model_no_network(monkeypatch):
    """Unset the model settings and fail the test on any connection or lookup beyond this machine.

    A refused connection alone could be swallowed by a client's retries, so every attempt is
    also recorded and fails the test at teardown. Tests that want a model set the variables
    again and point OPENAI_BASE_URL at a server on 127.0.0.1.
    """
    for name in MODEL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name in [n for n in os.environ if n.startswith("ONBOARD_MODEL_")]:
        monkeypatch.delenv(name, raising=False)
    blocked: list[str] = []
    real_connect, real_connect_ex, real_getaddrinfo = socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo

    def refuse(address) -> None:
        blocked.append(repr(address))
        raise ConnectionRefusedError(f"tests may only connect to 127.0.0.1, ::1 or unix sockets, not {address!r}")

    def connect(self, address):
        if not _is_local(address):
            refuse(address)
        return real_connect(self, address)

    def connect_ex(self, address):
        if not _is_local(address):
            refuse(address)
        return real_connect_ex(self, address)

    def getaddrinfo(host, *args, **kwargs):
        if not _is_local((host,)):
            refuse((host,) + args[:1])
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    from agents import llm

    monkeypatch.setattr(llm, "_factory", None)
    yield
    if blocked:
        pytest.fail(f"the test tried to reach beyond this machine: {', '.join(blocked[:5])}")


@pytest.fixture(autouse=True)
def _no_real_e2b(monkeypatch):
    """Remove E2B settings of the developer's shell, so that `auto` never picks a live E2B sandbox.

    The `e2b_standin` fixture sets them again for its local stand-in."""
    for name in ("E2B_API_KEY", "E2B_ACCESS_TOKEN", "E2B_API_URL", "E2B_SANDBOX_URL", "E2B_DOMAIN", "E2B_DEBUG"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "home"
    monkeypatch.setenv("ONBOARD_HOME", str(folder))
    monkeypatch.delenv("ONBOARD_DATABASE", raising=False)
    monkeypatch.delenv("ONBOARD_DATABASE_URL", raising=False)
    return folder


def realdata(relative: str) -> Path:
    path = REALDATA / relative
    if not path.exists():
        pytest.skip(f"real sample {relative} not found: the shared realdata folder is absent next to the project")
    return path


def onboard_cli(args: list[str], home: Path, cwd: Path | None = None, timeout: float = 300, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run the `onboard` command in a separate process, as a user would; `extra_env` adds settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONBOARD_")}
    env["ONBOARD_HOME"] = str(home)
    env.update(extra_env or {})
    executable = shutil.which("onboard", path=str(Path(sys.executable).parent)) or "onboard"
    return subprocess.run([executable, *args], cwd=cwd or home.parent, env=env, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
