"""A local stand-in for the E2B HTTP API on 127.0.0.1, for testing the E2B sandbox backend.

It answers only what the backend calls through the SDK: create a sandbox (POST /v2/sandboxes),
kill it (DELETE /sandboxes/ID), envd's file upload and download (POST and GET /files) and the
code interpreter's POST /execute. A sandbox is a temporary folder that stands for the sandbox
user's home; /execute runs the code in a separate Python process with that folder as its
working folder and HOME, and streams its output back as the code interpreter's JSON lines.

The SDK reaches it through E2B_API_URL and E2B_SANDBOX_URL (see the `e2b_standin` fixture).
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path, PurePosixPath
from urllib.parse import parse_qs, urlparse

import pytest

HOME_IN_SANDBOX = PurePosixPath("/home/user")


@dataclass
class StandIn:
    api_key: str
    sandboxes: dict[str, Path] = field(default_factory=dict)
    created: list[dict] = field(default_factory=list)  # request bodies of sandbox creations
    killed: list[str] = field(default_factory=list)
    uploaded: list[str] = field(default_factory=list)  # paths as the client sent them
    executed: list[str] = field(default_factory=list)  # code of each /execute request
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def resolve(self, sandbox_id: str, path: str) -> Path | None:
        """Map a sandbox path (absolute under /home/user, or relative to it) to the host folder."""
        root = self.sandboxes.get(sandbox_id)
        if root is None:
            return None
        posix = PurePosixPath(path)
        if posix.is_absolute():
            if not posix.is_relative_to(HOME_IN_SANDBOX):
                return None
            posix = posix.relative_to(HOME_IN_SANDBOX)
        if ".." in posix.parts:
            return None
        return root.joinpath(*posix.parts)


def make_handler(state: StandIn):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format, *args):  # keep pytest output quiet
            pass

        def reply(self, status: int, body: bytes = b"", content_type: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def reply_json(self, status: int, value) -> None:
            self.reply(status, json.dumps(value).encode("utf-8"))

        def body(self) -> bytes:
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def sandbox_root(self) -> tuple[str, Path | None]:
            sandbox_id = self.headers.get("E2b-Sandbox-Id", "")
            return sandbox_id, state.sandboxes.get(sandbox_id)

        def do_POST(self):
            url = urlparse(self.path)
            if url.path in ("/sandboxes", "/v2/sandboxes"):
                return self.create()
            if url.path == "/files":
                return self.upload(parse_qs(url.query))
            if url.path == "/execute":
                return self.execute()
            self.reply_json(404, {"code": 404, "message": f"no route {url.path}"})

        def do_GET(self):
            url = urlparse(self.path)
            if url.path == "/files":
                return self.download(parse_qs(url.query))
            if url.path == "/health":
                return self.reply(204)
            self.reply_json(404, {"code": 404, "message": f"no route {url.path}"})

        def do_DELETE(self):
            parts = urlparse(self.path).path.strip("/").split("/")
            if len(parts) == 2 and parts[0] == "sandboxes":
                root = state.sandboxes.pop(parts[1], None)
                if root is None:
                    return self.reply_json(404, {"code": 404, "message": "sandbox not found"})
                shutil.rmtree(root, ignore_errors=True)
                state.killed.append(parts[1])
                return self.reply(204)
            self.reply_json(404, {"code": 404, "message": "no route"})

        def create(self):
            request = json.loads(self.body() or b"{}")
            if self.headers.get("X-API-KEY") != state.api_key:
                return self.reply_json(401, {"code": 401, "message": "Invalid API key"})
            sandbox_id = f"local{uuid.uuid4().hex[:10]}"
            with state.lock:
                state.sandboxes[sandbox_id] = Path(tempfile.mkdtemp(prefix="e2b-standin-"))
                state.created.append(request)
            self.reply_json(201, {
                "templateID": request.get("templateID", "code-interpreter-v1"), "sandboxID": sandbox_id,
                "clientID": "standin", "envdVersion": "0.6.0",
            })

        def upload(self, query: dict):
            sandbox_id, root = self.sandbox_root()
            if root is None:
                return self.reply_json(404, {"code": 404, "message": "sandbox not found"})
            content_type = self.headers.get("Content-Type", "")
            data = self.body()
            if content_type.startswith("multipart/form-data"):
                message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
                    f"Content-Type: {content_type}\r\n\r\n".encode("latin-1") + data
                )
                files = [(part.get_filename(), part.get_payload(decode=True)) for part in message.iter_parts()]
            else:
                files = [(query.get("path", [""])[0], data)]
            written = []
            for path, content in files:
                target = state.resolve(sandbox_id, path or "")
                if target is None:
                    return self.reply_json(400, {"code": 400, "message": f"bad path {path!r}"})
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(content)
                state.uploaded.append(path)
                written.append({"name": target.name, "type": "file", "path": str(HOME_IN_SANDBOX / target.relative_to(root))})
            self.reply_json(200, written)

        def download(self, query: dict):
            sandbox_id, root = self.sandbox_root()
            target = state.resolve(sandbox_id, query.get("path", [""])[0]) if root else None
            if target is None or not target.is_file():
                return self.reply_json(404, {"code": 404, "message": "file not found"})
            self.reply(200, target.read_bytes(), "application/octet-stream")

        def execute(self):
            sandbox_id, root = self.sandbox_root()
            if root is None:
                return self.reply(404, b"sandbox not found", "text/plain")
            code = json.loads(self.body())["code"]
            state.executed.append(code)
            environment = {"PATH": "/usr/bin:/bin", "HOME": str(root), "LANG": "C.UTF-8"}
            completed = subprocess.run([sys.executable, "-c", code], cwd=root, env=environment, capture_output=True, text=True, timeout=600)
            now = time.time()
            lines = []
            if completed.stdout:
                lines.append({"type": "stdout", "text": completed.stdout, "timestamp": now})
            if completed.stderr:
                lines.append({"type": "stderr", "text": completed.stderr, "timestamp": now})
            if completed.returncode != 0:
                last = (completed.stderr.strip().splitlines() or [f"exit status {completed.returncode}"])[-1]
                name, _, value = last.partition(": ")
                lines.append({"type": "error", "name": name, "value": value, "traceback": completed.stderr})
            body = "".join(json.dumps(line) + "\n" for line in lines).encode("utf-8")
            self.reply(200, body, "application/x-ndjson")

    return Handler


@pytest.fixture
def e2b_standin(monkeypatch):
    """Start the stand-in on a free port of 127.0.0.1 and point the SDK at it."""
    state = StandIn(api_key=f"e2b_{uuid.uuid4().hex}")
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(state))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setenv("E2B_API_KEY", state.api_key)
    monkeypatch.setenv("E2B_API_URL", state.url)
    monkeypatch.setenv("E2B_SANDBOX_URL", state.url)
    monkeypatch.setenv("E2B_DOMAIN", "127.0.0.1")
    monkeypatch.delenv("E2B_DEBUG", raising=False)
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        for root in state.sandboxes.values():
            shutil.rmtree(root, ignore_errors=True)
