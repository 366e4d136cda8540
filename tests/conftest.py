"""Shared fixtures: a private ONBOARD_HOME per test and the path to the real sample files."""

from __future__ import annotations

import os
import shutil
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
    """Point every AWS client at a closed local port with fake keys, so a test that forgets the
    moto fixture fails at once instead of reaching AWS; the `aws` fixture overrides the endpoint."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)


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


def onboard_cli(args: list[str], home: Path, cwd: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run the `onboard` command in a separate process, as a user would."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONBOARD_")}
    env["ONBOARD_HOME"] = str(home)
    executable = shutil.which("onboard", path=str(Path(sys.executable).parent)) or "onboard"
    return subprocess.run([executable, *args], cwd=cwd or home.parent, env=env, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
