"""An OpenAI-compatible chat completions server on 127.0.0.1 that answers from a test's script.

The test passes `respond(request_body) -> reply`; a reply is one of
    {"content": "text"}                                  a plain answer
    {"json": {...}}                                      structured output: the object as the content
    {"tool_calls": [{"name": ..., "arguments": {...}}]}  tool calls
    {"refusal": "text"}                                  a refusal
    {"status": 500, "error": "text"}                     an HTTP error
The server speaks the OpenAI wire format for /v1/chat/completions, streams server-sent-event
chunks when the request has "stream": true, reports usage counts, and records every request
body as received and the usage it reported. Token counts are the stub's own estimate (characters / 4), not a tokenizer's.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable


def estimate_tokens(text: str) -> int:
    return max(1, len(text) // 4)


class OpenAIStub:
    def __init__(self, respond: Callable[[dict], dict]):
        self.respond = respond
        self.bodies: list[str] = []
        self.requests: list[dict] = []
        self.usages: list[dict] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> "OpenAIStub":
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode("utf-8")
                stub.bodies.append(raw)
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    self._send(404, {"error": {"message": f"no route {self.path}", "type": "invalid_request_error"}})
                    return
                body = json.loads(raw)
                stub.requests.append(body)
                try:
                    reply = stub.respond(body)
                except Exception as error:  # noqa: BLE001 - a script error becomes a 500 the test sees
                    reply = {"status": 500, "error": f"stub script failed: {type(error).__name__}: {error}"}
                if "status" in reply:
                    self._send(reply["status"], {"error": {"message": reply.get("error", ""), "type": "server_error"}})
                    return
                message, finish = _message(reply)
                usage = {
                    "prompt_tokens": estimate_tokens(json.dumps(body.get("messages", []))),
                    "completion_tokens": estimate_tokens(json.dumps(message)),
                }
                usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
                stub.usages.append(usage)
                if body.get("stream"):
                    self._stream(body, message, finish, usage)
                else:
                    self._send(200, {
                        "id": f"chatcmpl-{uuid.uuid4().hex[:12]}", "object": "chat.completion", "created": int(time.time()),
                        "model": body.get("model"), "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
                        "usage": usage,
                    })

            def _send(self, status: int, payload: dict) -> None:
                data = json.dumps(payload).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, body: dict, message: dict, finish: str, usage: dict) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                base = {"id": f"chatcmpl-{uuid.uuid4().hex[:12]}", "object": "chat.completion.chunk", "created": int(time.time()), "model": body.get("model")}
                for delta in _deltas(message):
                    self._event({**base, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]})
                self._event({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
                if (body.get("stream_options") or {}).get("include_usage"):
                    self._event({**base, "choices": [], "usage": usage})
                self.wfile.write(b"data: [DONE]\n\n")

            def _event(self, payload: dict) -> None:
                self.wfile.write(b"data: " + json.dumps(payload).encode("utf-8") + b"\n\n")
                self.wfile.flush()

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def _message(reply: dict) -> tuple[dict, str]:
    if "tool_calls" in reply:
        calls = [
            {"id": f"call_{uuid.uuid4().hex[:10]}", "type": "function", "function": {"name": c["name"], "arguments": json.dumps(c["arguments"])}}
            for c in reply["tool_calls"]
        ]
        return {"role": "assistant", "content": None, "tool_calls": calls, "refusal": None}, "tool_calls"
    if "refusal" in reply:
        return {"role": "assistant", "content": None, "refusal": reply["refusal"]}, "stop"
    content = json.dumps(reply["json"]) if "json" in reply else reply["content"]
    return {"role": "assistant", "content": content, "refusal": None}, "stop"


def _deltas(message: dict) -> list[dict]:
    """Split a message into stream deltas: the role, then the content or tool calls in two pieces."""
    deltas = [{"role": "assistant", "content": ""}]
    if message.get("content"):
        text = message["content"]
        half = len(text) // 2
        deltas += [{"content": text[:half]}, {"content": text[half:]}]
    for index, call in enumerate(message.get("tool_calls") or []):
        arguments = call["function"]["arguments"]
        half = len(arguments) // 2
        deltas.append({"tool_calls": [{"index": index, "id": call["id"], "type": "function", "function": {"name": call["function"]["name"], "arguments": arguments[:half]}}]})
        deltas.append({"tool_calls": [{"index": index, "function": {"arguments": arguments[half:]}}]})
    if message.get("refusal"):
        deltas.append({"refusal": message["refusal"]})
    return deltas
