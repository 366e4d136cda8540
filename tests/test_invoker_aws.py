"""The invoker's AWS mode through boto3's real Lambda Invoke calls.

A local endpoint on 127.0.0.1 speaks the Lambda Invoke API (as `sam local start-lambda` does)
and runs the product's real handlers, so the request and the error shapes cross real HTTP.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from onboard.errors import OnboardError
from serverless.invoker import FunctionError, invoke, run_handler

PREFIX = "onboard-test-"


class LambdaEndpoint:
    def __init__(self):
        self.calls: list[str] = []
        self.throttle_next = 0
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the name http.server calls
                name = self.path.split("/functions/", 1)[1].split("/", 1)[0]
                body = self.rfile.read(int(self.headers["Content-Length"])).decode("utf-8")
                endpoint.calls.append(name)
                if endpoint.throttle_next:
                    endpoint.throttle_next -= 1
                    self._reply(429, json.dumps({"Type": "User", "message": "Rate exceeded"}), {"x-amzn-ErrorType": "TooManyRequestsException"})
                    return
                ok, text = run_handler(name.removeprefix(PREFIX), body)
                self._reply(200, text, {} if ok else {"X-Amz-Function-Error": "Unhandled"})

            def _reply(self, status, text, headers):
                data = text.encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def lambda_endpoint(home, monkeypatch):
    endpoint = LambdaEndpoint()
    monkeypatch.setenv("ONBOARD_INVOKER", "aws")
    monkeypatch.setenv("ONBOARD_FUNCTION_PREFIX", PREFIX)
    monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", endpoint.url)
    yield endpoint
    endpoint.server.shutdown()


SPEC = {"entity": "transaction", "source": {"kind": "csv", "columns": ["Txn ID"]}, "mappings": [{"target": "transaction_id", "sources": ["Txn ID"], "transform": "copy"}]}


def test_aws_mode_invokes_the_named_function(lambda_endpoint):
    result = invoke("compile_spec", {"run_id": "r1", "spec": SPEC})
    assert len(result["script_sha256"]) == 64
    assert "def transform" in result["script"]
    assert lambda_endpoint.calls == [PREFIX + "compile_spec"]


def test_aws_function_error_comes_back_as_function_error(lambda_endpoint):
    with pytest.raises(FunctionError) as raised:
        invoke("compile_spec", {"run_id": "r1", "spec": {"entity": "transaction", "mappings": 5}})
    assert raised.value.error_type == "ValidationError"
    assert raised.value.stack_trace


def test_aws_user_error_stays_the_users(lambda_endpoint, tmp_path):
    with pytest.raises(OnboardError, match="file not found"):
        invoke("ingest", {"run_id": "r1", "path": str(tmp_path / "missing.csv")})


def test_aws_throttling_is_retried(lambda_endpoint, monkeypatch):
    # boto3's own retries are off, so the invoker's retry is what is tested.
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    lambda_endpoint.throttle_next = 1
    result = invoke("compile_spec", {"run_id": "r1", "spec": SPEC})
    assert len(result["script_sha256"]) == 64
    assert lambda_endpoint.calls == [PREFIX + "compile_spec"] * 2
