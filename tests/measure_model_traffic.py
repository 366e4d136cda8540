"""Measure what one run sends to a model: requests, characters, and the client-data share.

Runs the shipped sample through the graph with ChatOpenAI pointed at the local stub, whose model
agrees with the offline matcher, adds no custom function and approves on the first review.

    PYTHONPATH=. python tests/measure_model_traffic.py [FILE]
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from openai_stub import OpenAIStub  # noqa: E402
from test_model_stub import SAMPLE, agent_of, echo_offline  # noqa: E402

BLOCK = re.compile(r"<client_data>\n(.*?)\n</client_data>", re.S)


def measure(path: Path) -> dict:
    with tempfile.TemporaryDirectory() as home, OpenAIStub(echo_offline) as stub:
        os.environ.update(ONBOARD_HOME=home, ONBOARD_MODEL="stub-model", OPENAI_BASE_URL=stub.base_url, OPENAI_API_KEY="dummy-key")
        from graph import runner

        summary = runner.start(str(path), "auto", None, {}, "measure")
        per_agent: dict[str, dict] = {}
        for body, raw in zip(stub.requests, stub.bodies):
            row = per_agent.setdefault(agent_of(body), {"requests": 0, "body_chars": 0, "client_data_chars": 0})
            row["requests"] += 1
            row["body_chars"] += len(raw)
            text = "".join(m["content"] for m in body["messages"] if isinstance(m.get("content"), str))
            row["client_data_chars"] += sum(len(block) for block in BLOCK.findall(text))
        return {
            "file": path.name, "status": summary["status"], "requests": len(stub.requests),
            "body_chars": sum(len(b) for b in stub.bodies), "per_agent": per_agent,
        }


if __name__ == "__main__":
    print(json.dumps(measure(Path(sys.argv[1]) if len(sys.argv) > 1 else SAMPLE), indent=1))
