"""The AWS infrastructure as code: the SAM template and the full-run state machine.

The template is checked with cfn-lint twice: as written, and after the SAM transform. The transform
(the translator that CloudFormation runs) expands policy templates and event sources into plain
CloudFormation, so circular dependencies and the final IAM statements can be checked too.

The state machine runs on moto's Step Functions engine in server mode. Moto does not run Lambda
code: its "simple" Lambda backend returns queued results in order, or echoes the request payload
when the queue is empty. The tests queue payloads built from the handlers' own result models, so
the state machine's paths are checked against the fields the functions really return.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from onboard.database import LoadResult, Reconciliation
from serverless.events import FUNCTIONS as FUNCTION_CONFIGS
from serverless.sandbox import SandboxResult
from serverless.validation import ValidationReport

PROJECT = Path(__file__).resolve().parents[1]
TEMPLATE = PROJECT / "infra" / "template.yaml"
STATE_MACHINE = PROJECT / "infra" / "statemachine.asl.json"
FUNCTIONS = PROJECT / "serverless" / "functions"

ACCOUNT = "123456789012"
BUCKET = "onboard-files-test"
RECIPIENT = "operations@bank.example"
TRANSIENT_LAMBDA_ERRORS = {"Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException", "Lambda.TooManyRequestsException"}
PLACEHOLDER = re.compile(r"\$\{(\w+)\}")


# ---------------------------------------------------------------- template helpers


def cfn_lint(path: Path) -> subprocess.CompletedProcess:
    executable = Path(sys.executable).parent / "cfn-lint"
    assert executable.exists(), f"cfn-lint not found at {executable}; install the test extra: pip install -e '.[test]'"
    return subprocess.run([str(executable), str(path)], capture_output=True, text=True, timeout=120)


def load_template() -> dict:
    """Parse the template with cfn-lint's decoder, which reads the CloudFormation short tags (!Ref, !Sub)."""
    from cfnlint.decode import decode

    template, problems = decode(str(TEMPLATE))
    assert not problems, f"{TEMPLATE} could not be parsed: {[str(p) for p in problems]}"
    return json.loads(json.dumps(template))


class NoManagedPolicies:
    """Name-to-ARN map of AWS managed policies for the SAM translator: the template names none."""

    def load(self) -> dict:
        return {}


def translate_template(monkeypatch) -> dict:
    """Expand the SAM template into plain CloudFormation, as `sam build` and `sam deploy` would.

    `sam build` fills ImageUri from the built image and `sam deploy` uploads the state machine
    definition to S3; both are replaced here by placeholders of the same shape.
    """
    from samtranslator.translator.transform import transform

    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    template = load_template()
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["ImageUri"] = f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/onboard:python3.11"
        if resource["Type"] == "AWS::Serverless::StateMachine":
            resource["Properties"]["DefinitionUri"] = {"Bucket": "deployment-artifacts", "Key": "statemachine.asl.json"}
    return transform(template, {}, NoManagedPolicies())


def iam_statements(template: dict) -> list[tuple[str, dict]]:
    """Every IAM policy statement of the roles and policies in a plain CloudFormation template."""
    found = []
    for name, resource in template["Resources"].items():
        documents = []
        if resource["Type"] == "AWS::IAM::Role":
            documents = [policy["PolicyDocument"] for policy in resource["Properties"].get("Policies", [])]
        elif resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            documents = [resource["Properties"]["PolicyDocument"]]
        for document in documents:
            found += [(name, statement) for statement in document["Statement"]]
    return found


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def function_handlers(template: dict) -> dict[str, str]:
    """Map each function's handler module name (ingest, load, ...) to its resource name."""
    handlers = {}
    for name, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        command = resource["Properties"]["ImageConfig"]["Command"]
        match = re.fullmatch(r"serverless/functions/(\w+)\.handler", command[0])
        assert match, f"{name}: command {command!r} does not name serverless/functions/<module>.handler"
        handlers[match.group(1)] = name
    return handlers


# ---------------------------------------------------------------- template tests


def test_template_passes_cfn_lint():
    result = cfn_lint(TEMPLATE)
    assert result.returncode == 0, f"cfn-lint found problems in {TEMPLATE}:\n{result.stdout}{result.stderr}"


def test_translated_template_passes_cfn_lint(tmp_path, monkeypatch):
    translated = tmp_path / "translated.json"
    translated.write_text(json.dumps(translate_template(monkeypatch), indent=1))
    result = cfn_lint(translated)
    assert result.returncode == 0, f"cfn-lint found problems in the SAM-translated template:\n{result.stdout}{result.stderr}"


def test_no_iam_action_has_wildcard(monkeypatch):
    statements = iam_statements(translate_template(monkeypatch))
    assert len(statements) >= 10, "expected the functions' and the state machine's policy statements"
    for owner, statement in statements:
        for action in as_list(statement["Action"]):
            assert "*" not in action, f"{owner} allows the wildcard action {action!r}"


def test_no_allow_on_every_resource(monkeypatch):
    for owner, statement in iam_statements(translate_template(monkeypatch)):
        assert statement["Effect"] == "Allow"
        assert "*" not in as_list(statement["Resource"]), f"{owner} allows {statement['Action']} on every resource"


def test_every_function_module_is_deployed():
    modules = {path.stem for path in FUNCTIONS.glob("*.py") if path.stem != "__init__"}
    handlers = function_handlers(load_template())
    assert modules, f"no function modules found in {FUNCTIONS}"
    assert sorted(handlers) == sorted(modules)


def test_functions_build_from_project_image():
    template = load_template()
    for name, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        properties = resource["Properties"]
        assert properties["PackageType"] == "Image", name
        assert 128 <= properties["MemorySize"] <= 10240, name
        assert 1 <= properties["Timeout"] <= 900, name
        context = (TEMPLATE.parent / resource["Metadata"]["DockerContext"]).resolve()
        assert context == PROJECT, f"{name}: the image must be built from the project root"
        assert (context / resource["Metadata"]["Dockerfile"]).is_file(), name


def test_bucket_is_private_encrypted_versioned():
    bucket = load_template()["Resources"]["FilesBucket"]["Properties"]
    block = bucket["PublicAccessBlockConfiguration"]
    assert all(block[key] is True for key in ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"))
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
    assert bucket["VersioningConfiguration"]["Status"] == "Enabled"


def test_upload_event_triggers_ingest():
    ingest = load_template()["Resources"]["IngestFunction"]["Properties"]
    events = [event for event in ingest["Events"].values() if event["Type"] == "S3"]
    assert len(events) == 1
    assert events[0]["Properties"]["Bucket"] == {"Ref": "FilesBucket"}
    rules = events[0]["Properties"]["Filter"]["S3Key"]["Rules"]
    assert {"Name": "prefix", "Value": "incoming/"} in rules, "without a prefix, ingest's own writes under runs/ would trigger it again"


def test_definition_substitutions_fill_every_placeholder():
    machine = load_template()["Resources"]["FullRunStateMachine"]["Properties"]
    placeholders = set(PLACEHOLDER.findall(STATE_MACHINE.read_text()))
    assert placeholders == set(machine["DefinitionSubstitutions"])


# ---------------------------------------------------------------- state machine structure


def render_definition(substitutions: dict[str, str]) -> dict:
    """Substitute ${Name} placeholders as CloudFormation's DefinitionSubstitutions does, then parse."""
    text = PLACEHOLDER.sub(lambda match: substitutions[match.group(1)], STATE_MACHINE.read_text())
    return json.loads(text)


def example_substitutions() -> dict[str, str]:
    arn = f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:"
    names = ("RunScript", "Validate", "Load", "Reconcile", "Notify")
    return {"BucketName": BUCKET, "ChunkConcurrency": "4", "OperationsRecipient": RECIPIENT} | {f"{name}FunctionArn": arn + name for name in names}


def tasks(states: dict) -> dict[str, dict]:
    return {name: state for name, state in states.items() if state["Type"] == "Task"}


def test_definition_renders_to_distributed_map():
    definition = render_definition(example_substitutions())
    chunks = definition["States"]["ExecuteChunks"]
    assert chunks["Type"] == "Map"
    assert chunks["ItemProcessor"]["ProcessorConfig"]["Mode"] == "DISTRIBUTED"
    assert chunks["MaxConcurrency"] == 4
    assert chunks["ItemReader"]["Resource"] == "arn:aws:states:::s3:listObjectsV2"
    assert chunks["ItemReader"]["Parameters"]["Bucket"] == BUCKET


def test_definition_passes_cfn_lint_schema(tmp_path):
    """cfn-lint checks an ASL definition against its schema only when it is inline in
    AWS::StepFunctions::StateMachine, so the rendered file is linted in a stack of its own."""
    definition = render_definition(example_substitutions())
    stack = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {
            "FullRun": {
                "Type": "AWS::StepFunctions::StateMachine",
                "Properties": {"Definition": definition, "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/full-run"},
            }
        },
    }
    path = tmp_path / "state-machine-stack.json"
    path.write_text(json.dumps(stack, indent=1))
    result = cfn_lint(path)
    assert result.returncode == 0, f"cfn-lint found problems in {STATE_MACHINE}:\n{result.stdout}{result.stderr}"


def transition_targets(state: dict) -> list[str]:
    targets = [state[key] for key in ("Next", "Default") if key in state]
    targets += [choice["Next"] for choice in state.get("Choices", [])]
    targets += [catcher["Next"] for catcher in state.get("Catch", [])]
    return targets


def test_every_transition_target_exists():
    definition = render_definition(example_substitutions())
    processor = definition["States"]["ExecuteChunks"]["ItemProcessor"]
    for scope in (definition, processor):
        assert scope["StartAt"] in scope["States"]
        for name, state in scope["States"].items():
            for target in transition_targets(state):
                assert target in scope["States"], f"{name} goes to {target!r}, which is not a state in its scope"


def test_every_task_retries_transient_lambda_errors():
    definition = render_definition(example_substitutions())
    processor = definition["States"]["ExecuteChunks"]["ItemProcessor"]["States"]
    every_task = tasks(definition["States"]) | tasks(processor)
    assert set(every_task) == {"RunScript", "ValidateChunk", "Load", "Reconcile", "NotifySuccess", "NotifyFailure"}
    for name, state in every_task.items():
        retried = set().union(*(retrier["ErrorEquals"] for retrier in state.get("Retry", [])))
        assert TRANSIENT_LAMBDA_ERRORS <= retried, f"{name} does not retry {TRANSIENT_LAMBDA_ERRORS - retried}"
        assert all(retrier["BackoffRate"] > 1 for retrier in state["Retry"]), f"{name} retries without backoff"


def test_every_top_level_step_catches_to_notify_failure():
    states = render_definition(example_substitutions())["States"]
    for name, state in states.items():
        if state["Type"] not in ("Task", "Map"):
            continue
        target = "RunFailed" if name == "NotifyFailure" else "NotifyFailure"
        catchers = state.get("Catch", [])
        assert any("States.ALL" in c["ErrorEquals"] and c["Next"] == target for c in catchers), f"{name} has no Catch of States.ALL to {target}"
    assert states["NotifyFailure"]["Next"] == "RunFailed"
    assert states["RunFailed"]["Type"] == "Fail"


# ---------------------------------------------------------------- state machine on moto


def moto_api(server, path: str, body: dict) -> bytes:
    request = urllib.request.Request(f"{server.endpoint}/moto-api/{path}", data=json.dumps(body).encode(), method="POST", headers={"Content-Type": "application/json"})
    return urllib.request.urlopen(request, timeout=10).read()


@pytest.fixture
def sfn_engine(aws):
    """Turn on moto's state machine interpreter and its Lambda backend that runs no containers.

    Both are process-wide settings of the moto server, so they are restored afterwards for the
    other tests that share it.
    """
    moto_api(aws, "config", {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}})
    yield aws
    moto_api(aws, "config", {"stepfunctions": {"execute_state_machine": False}, "lambda": {"use_docker": True}})


def queue_lambda_results(server, results: list[dict]) -> None:
    """Queue payloads that the next Lambda invocations return, first in first out, across all functions."""
    moto_api(server, "static/lambda-simple/response", {"results": [json.dumps(r) for r in results], "region": server.region, "account_id": ACCOUNT})


def as_inline_map(definition: dict) -> dict:
    """Turn the Distributed Map into an inline Map over `$.chunk_objects`, items shaped like ListObjectsV2's.

    moto 5.2's Distributed Map ignores ToleratedFailurePercentage: its map run ends SUCCEEDED even
    when child executions failed, where AWS fails the Map state. Its inline Map does fail, so the
    failed-chunk path is tested on an inline Map with the same item processor.
    """
    chunks = definition["States"]["ExecuteChunks"]
    del chunks["ItemReader"]
    chunks["ItemsPath"] = "$.chunk_objects"
    chunks["ItemProcessor"]["ProcessorConfig"] = {"Mode": "INLINE"}
    return definition


def deploy_on_moto(server, tmp_path: Path, chunk_count: int, inline_map: bool = False) -> dict:
    """Create the functions, the bucket with a run's chunk objects and the state machine on moto."""
    role = server.client("iam").create_role(RoleName="full-run", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}))["Role"]["Arn"]
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("placeholder.py", "def handler(event, context):\n    return event\n")
    lambda_client = server.client("lambda")
    substitutions = {"BucketName": BUCKET, "ChunkConcurrency": "1", "OperationsRecipient": RECIPIENT}
    for name in ("RunScript", "Validate", "Load", "Reconcile", "Notify"):
        created = lambda_client.create_function(FunctionName=name, Runtime="python3.11", Role=role, Handler="placeholder.handler", Code={"ZipFile": archive.getvalue()})
        substitutions[f"{name}FunctionArn"] = created["FunctionArn"]

    s3 = server.client("s3")
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": server.region})
    chunk_keys = []
    for index in range(chunk_count):
        frame = pd.DataFrame({"_line": [index * 2 + 2, index * 2 + 3], "Amount": ["12,50", "-3,10"], "Currency": ["EUR", "EUR"]})
        path = tmp_path / f"{index:05d}.parquet"
        frame.to_parquet(path, index=False)
        key = f"runs/r1/chunks/{index:05d}.parquet"
        s3.put_object(Bucket=BUCKET, Key=key, Body=path.read_bytes())
        chunk_keys.append(key)
    # An object of another run must not be picked up by this run's Map.
    s3.put_object(Bucket=BUCKET, Key="runs/r2/chunks/00000.parquet", Body=b"other run")

    definition = render_definition(substitutions)
    if inline_map:
        definition = as_inline_map(definition)
    sfn = server.client("stepfunctions")
    machine = sfn.create_state_machine(name="full-run", definition=json.dumps(definition), roleArn=role)["stateMachineArn"]
    return {"sfn": sfn, "machine": machine, "chunk_keys": chunk_keys, "lambda": lambda_client}


def run_input(rows_in: int) -> dict:
    return {
        "run_id": "r1",
        "thread_id": "thread-1",
        "client": "Acme Fund",
        "entity": "transaction",
        "script_key": "runs/r1/scripts/3f2a.py",
        "expected_sha256": "3f2a" * 16,
        "file_sha256": "9c1d" * 16,
        "rows_in": rows_in,
        "bad_rows_key": "runs/r1/bad_rows.json",
    }


def chunk_results(index: int, status: str = "ok") -> list[dict]:
    """What run_script and validate return for one chunk of two rows, built from their result models."""
    script = SandboxResult(status=status, rows=2 if status == "ok" else 0, duration_s=0.4).model_dump(mode="json")
    script |= {"output_key": f"runs/r1/execute-chunk-{index}-output.parquet" if status == "ok" else None, "script_sha256": "3f2a" * 16}
    if status != "ok":
        script |= {"error_name": "ValueError", "message": "could not convert '12,5O' to Decimal"}
        return [script]
    report = ValidationReport(rows_in=2, rows_valid=2, rows_rejected=0).model_dump(mode="json")
    validation = {"report": report, "valid_key": f"runs/r1/execute-chunk-{index}-valid.parquet", "rejected_key": f"runs/r1/execute-chunk-{index}-rejected.parquet", "preview": []}
    return [script, validation]


def load_and_reconcile_results(rows: int, passed: bool) -> list[dict]:
    load = LoadResult(load_id="load-1", entity="transaction", rows_offered=rows, rows_inserted=rows, rows_existing=0, rows_updated=0, rows_conflicting=0, placeholders=0).model_dump(mode="json")
    load.pop("keys")
    load["rows_rejected_before_load"] = 0
    loaded = rows if passed else rows - 1
    reconciliation = Reconciliation(passed=passed, rows_in=rows, rows_loaded=loaded, rows_rejected=0, totals_expected={"EUR": "28.20"}, totals_loaded={"EUR": "28.20" if passed else "25.10"})
    return [load, reconciliation.model_dump(mode="json")]


def wait_for(sfn, execution_arn: str, timeout_s: float = 60) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        described = sfn.describe_execution(executionArn=execution_arn)
        if described["status"] != "RUNNING":
            return described
        assert time.monotonic() < deadline, f"execution {execution_arn} still RUNNING after {timeout_s} s"
        time.sleep(0.2)


def invoked_functions(sfn, execution_arn: str) -> list[str]:
    events = sfn.get_execution_history(executionArn=execution_arn, maxResults=1000)["events"]
    return [event["lambdaFunctionScheduledEventDetails"]["resource"].rsplit(":", 1)[-1] for event in events if event["type"] == "LambdaFunctionScheduled"]


def test_full_run_succeeds_on_moto(sfn_engine, tmp_path):
    deployed = deploy_on_moto(sfn_engine, tmp_path, chunk_count=3)
    queue_lambda_results(sfn_engine, [*chunk_results(0), *chunk_results(1), *chunk_results(2), *load_and_reconcile_results(6, passed=True)])
    sfn = deployed["sfn"]

    execution = sfn.start_execution(stateMachineArn=deployed["machine"], input=json.dumps(run_input(6)))["executionArn"]
    described = wait_for(sfn, execution)

    assert described["status"] == "SUCCEEDED", f"{described.get('error')}: {described.get('cause')}"
    output = json.loads(described["output"])
    assert [chunk["valid_key"] for chunk in output["chunks"]] == [f"runs/r1/execute-chunk-{i}-valid.parquet" for i in range(3)]
    assert sum(chunk["rows_valid"] for chunk in output["chunks"]) == 6
    assert output["load"]["rows_inserted"] == 6
    assert output["reconcile"]["passed"] is True
    assert output["notification"]["recipient"] == RECIPIENT
    assert output["notification"]["subject"] == "Onboarding run r1 loaded and reconciled"
    assert json.loads(output["notification"]["body"])["totals_loaded"] == {"EUR": "28.20"}
    assert invoked_functions(sfn, execution) == ["Load", "Reconcile", "Notify"]
    # What the state machine hands each function is an event that function accepts.
    history = sfn.get_execution_history(executionArn=execution, maxResults=1000)["events"]
    scheduled = [json.loads(e["lambdaFunctionScheduledEventDetails"]["input"]) for e in history if e["type"] == "LambdaFunctionScheduled"]
    for name, event in zip(["load", "reconcile", "notify"], scheduled):
        accepted = FUNCTION_CONFIGS[name].event.model_validate(event)
        if name != "notify":
            assert accepted.valid_keys == [f"runs/r1/execute-chunk-{i}-valid.parquet" for i in range(3)]


def test_map_run_counts_every_chunk(sfn_engine, tmp_path):
    deployed = deploy_on_moto(sfn_engine, tmp_path, chunk_count=2)
    queue_lambda_results(sfn_engine, [*chunk_results(0), *chunk_results(1), *load_and_reconcile_results(4, passed=True)])
    sfn = deployed["sfn"]

    execution = sfn.start_execution(stateMachineArn=deployed["machine"], input=json.dumps(run_input(4)))["executionArn"]
    assert wait_for(sfn, execution)["status"] == "SUCCEEDED"

    map_runs = sfn.list_map_runs(executionArn=execution)["mapRuns"]
    assert len(map_runs) == 1
    map_run = sfn.describe_map_run(mapRunArn=map_runs[0]["mapRunArn"])
    # Two items, not three: the object under runs/r2/ belongs to another run.
    assert map_run["status"] == "SUCCEEDED"
    assert map_run["maxConcurrency"] == 1
    assert map_run["itemCounts"]["total"] == 2
    assert map_run["itemCounts"]["succeeded"] == 2


def test_failed_chunk_notifies_failure(sfn_engine, tmp_path):
    deployed = deploy_on_moto(sfn_engine, tmp_path, chunk_count=3, inline_map=True)
    queue_lambda_results(sfn_engine, [*chunk_results(0), *chunk_results(1, status="error")])
    sfn = deployed["sfn"]
    request = run_input(6) | {"chunk_objects": [{"Key": key} for key in deployed["chunk_keys"]]}

    execution = sfn.start_execution(stateMachineArn=deployed["machine"], input=json.dumps(request))["executionArn"]
    described = wait_for(sfn, execution)

    assert described["status"] == "FAILED"
    assert described["error"] == "ChunkScriptFailed"
    assert invoked_functions(sfn, execution) == ["RunScript", "Validate", "RunScript", "Notify"], "a failed chunk must stop the run before anything is loaded"
    history = sfn.get_execution_history(executionArn=execution, maxResults=1000)["events"]
    scheduled = [json.loads(e["lambdaFunctionScheduledEventDetails"]["input"]) for e in history if e["type"] == "LambdaFunctionScheduled"]
    assert [request["table_key"] for request in scheduled[:3:2]] == deployed["chunk_keys"][:2]
    assert scheduled[2]["purpose"] == "execute-chunk-1"
    assert scheduled[-1]["recipient"] == RECIPIENT
    assert scheduled[-1]["subject"] == "Onboarding run r1 failed: ChunkScriptFailed"
    assert json.loads(scheduled[-1]["body"])["Error"] == "ChunkScriptFailed"


def test_reconcile_mismatch_notifies_failure(sfn_engine, tmp_path):
    deployed = deploy_on_moto(sfn_engine, tmp_path, chunk_count=2)
    queue_lambda_results(sfn_engine, [*chunk_results(0), *chunk_results(1), *load_and_reconcile_results(4, passed=False)])
    sfn = deployed["sfn"]

    execution = sfn.start_execution(stateMachineArn=deployed["machine"], input=json.dumps(run_input(4)))["executionArn"]
    described = wait_for(sfn, execution)

    assert described["status"] == "FAILED"
    assert described["error"] == "ReconciliationFailed"
    cause = json.loads(described["cause"])
    assert cause["passed"] is False
    assert cause["totals_loaded"] == {"EUR": "25.10"}
    assert invoked_functions(sfn, execution) == ["Load", "Reconcile", "Notify"]


def test_template_limits_match_the_local_invoker():
    """Each function gets the same timeout and memory on AWS as the local invoker enforces."""
    resources = load_template()["Resources"]
    declared = {}
    for resource in resources.values():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        command = resource["Properties"]["ImageConfig"]["Command"][0]
        name = command.split("/")[-1].removesuffix(".handler")
        declared[name] = (resource["Properties"]["Timeout"], resource["Properties"]["MemorySize"])
    for name, config in FUNCTION_CONFIGS.items():
        assert declared[name] == (int(config.timeout_s), config.memory_mb), name
