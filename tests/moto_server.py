"""A moto server on 127.0.0.1 for tests that talk to AWS APIs through real boto3 HTTP calls.

Use the `aws` fixture: it starts one server per test session in a separate process, points
boto3 at it through AWS_ENDPOINT_URL, and resets its state before each test.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass

import pytest

REGION = "eu-west-1"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class MotoServer:
    endpoint: str
    port: int
    region: str = REGION

    def reset(self) -> None:
        urllib.request.urlopen(urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST"), timeout=10).read()

    def client(self, service: str):
        import boto3

        return boto3.client(service, region_name=self.region, endpoint_url=self.endpoint)


@pytest.fixture(scope="session")
def moto_server():
    pytest.importorskip("moto.server", reason="moto[server] is not installed; install the test extra")
    port = free_port()
    env = {**os.environ, "MOTO_PORT": str(port)}
    process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1).read()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"moto server did not start on {endpoint}: {process.stderr.read().decode(errors='replace')[-2000:]}")
            time.sleep(0.2)
    yield MotoServer(endpoint, port)
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture
def aws(moto_server, monkeypatch) -> MotoServer:
    moto_server.reset()
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server.endpoint)
    monkeypatch.setenv("AWS_DEFAULT_REGION", moto_server.region)
    monkeypatch.setenv("MOTO_PORT", str(moto_server.port))
    return moto_server
