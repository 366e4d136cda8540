"""Compile a mapping spec into the transformation script."""

from __future__ import annotations

from onboard.spec import MappingSpec
from serverless import runtime
from serverless.compiler import compile_spec, script_sha256
from serverless.policy import check_script


def handler(event: dict, context=None) -> dict:
    """Event: {run_id, spec}. Returns {script_key, script, script_sha256, policy_problems}."""
    spec = MappingSpec.model_validate(event["spec"])
    script = compile_spec(spec)
    digest = script_sha256(script)
    key = f"runs/{event['run_id']}/scripts/{digest[:16]}.py"
    runtime.store().put_bytes(key, script.encode("utf-8"))
    return {"script_key": key, "script": script, "script_sha256": digest, "spec_sha256": spec.sha256(), "policy_problems": check_script(script)}
