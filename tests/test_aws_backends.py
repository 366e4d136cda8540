"""Object store, queue and notifier on the local and the AWS backend, and uploads received the AWS way.

The AWS tests talk to a moto server on 127.0.0.1 through real boto3 HTTP calls (the `aws`
fixture). The end-to-end test lets moto itself produce the S3 event notification.
"""

from __future__ import annotations

import json
import sqlite3
import time
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from conftest import SAMPLES
from onboard.errors import OnboardError
from onboard.messaging import LocalNotifier, LocalQueue, SnsNotifier, SqsQueue
from onboard.storage import LocalObjectStore, S3ObjectStore

BUCKET = "onboard-uploads-test"
SAMPLE = SAMPLES / "northwind_2026-11.csv"
CONTACT = "treasury@northwind.example"


def _drain(sqs, queue_url: str) -> list[dict]:
    """Receive every message now in the queue, deleting each."""
    messages = []
    while True:
        batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]).get("Messages", [])
        if not batch:
            return messages
        for message in batch:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        messages += batch


def _attribute(message: dict, name: str) -> str:
    return message["MessageAttributes"][name]["StringValue"]


def _queue_arn(sqs, queue_url: str) -> str:
    return sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


@pytest.fixture
def cloud(aws, home, monkeypatch) -> SimpleNamespace:
    """A bucket, the work queue, the topic and an inbox queue subscribed to the topic with raw delivery."""
    s3, sqs, sns = aws.client("s3"), aws.client("sqs"), aws.client("sns")
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": aws.region})
    work = sqs.create_queue(QueueName="onboard-work")["QueueUrl"]
    inbox = sqs.create_queue(QueueName="notices-inbox")["QueueUrl"]
    topic = sns.create_topic(Name="onboard-notices")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=_queue_arn(sqs, inbox), Attributes={"RawMessageDelivery": "true"})
    monkeypatch.setenv("ONBOARD_BACKEND", "aws")
    monkeypatch.setenv("ONBOARD_BUCKET", BUCKET)
    monkeypatch.setenv("ONBOARD_QUEUE_URL", work)
    monkeypatch.setenv("ONBOARD_TOPIC_ARN", topic)
    monkeypatch.delenv("ONBOARD_OPS_RECIPIENT", raising=False)
    return SimpleNamespace(s3=s3, sqs=sqs, sns=sns, work=work, inbox=inbox, topic=topic, home=home)


def test_s3_store_round_trip(cloud, tmp_path):
    store = S3ObjectStore(BUCKET, prefix="tenant-a")
    store.put_bytes("runs/r1/note.txt", "zůstatek 12.50".encode("utf-8"))
    assert store.get_bytes("runs/r1/note.txt").decode("utf-8") == "zůstatek 12.50"
    assert store.exists("runs/r1/note.txt")
    assert not store.exists("runs/r1/absent.txt")
    # The prefix is part of the bucket key.
    listed = [o["Key"] for o in cloud.s3.list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert listed == ["tenant-a/runs/r1/note.txt"]

    source = tmp_path / "statement.csv"
    source.write_bytes(SAMPLE.read_bytes())
    assert store.publish("runs/r1/source/statement.csv", source) == "runs/r1/source/statement.csv"
    fetched = store.fetch("runs/r1/source/statement.csv")
    assert fetched.read_bytes() == SAMPLE.read_bytes()
    assert fetched != source

    # fetch downloads again, so an overwritten key is never read stale.
    store.put_bytes("runs/r1/source/statement.csv", b"new")
    assert store.fetch("runs/r1/source/statement.csv").read_bytes() == b"new"

    with pytest.raises(FileNotFoundError, match="absent.txt"):
        store.fetch("runs/r1/absent.txt")
    with pytest.raises(FileNotFoundError, match="absent.txt"):
        store.get_bytes("runs/r1/absent.txt")
    with pytest.raises(ValueError, match="invalid object key"):
        store.put_bytes("../escape", b"x")


def test_s3_store_metadata(cloud):
    cloud.s3.put_object(Bucket=BUCKET, Key="incoming/acme/a.csv", Body=b"x", Metadata={"Client-Contact": CONTACT})
    assert S3ObjectStore(BUCKET).metadata("incoming/acme/a.csv") == {"client-contact": CONTACT}


def test_runtime_frames_and_json_on_s3(cloud):
    from serverless import runtime

    frame = pd.DataFrame({"_line": [4, 5], "amount": ["1250.00", None]})
    runtime.write_frame("runs/r2/table.parquet", frame)
    runtime.write_json("runs/r2/table.json", {"rows": 2})
    keys = {o["Key"] for o in cloud.s3.list_objects_v2(Bucket=BUCKET)["Contents"]}
    assert keys == {"runs/r2/table.parquet", "runs/r2/table.json"}
    # Nothing is written to the local object folder on the AWS backend.
    assert not any((cloud.home / "objects").rglob("*.parquet"))

    back = runtime.read_frame("runs/r2/table.parquet")
    assert back["amount"].tolist() == ["1250.00", None]
    assert back["_line"].tolist() == [4, 5]
    assert runtime.read_json("runs/r2/table.json") == {"rows": 2}


def test_local_store_fetch_and_publish(tmp_path):
    store = LocalObjectStore(tmp_path / "objects")
    source = tmp_path / "in.csv"
    source.write_text("a;b\n", encoding="utf-8")
    store.publish("runs/r/in.csv", source)
    fetched = store.fetch("runs/r/in.csv")
    assert fetched == store.path("runs/r/in.csv")
    assert fetched.read_text(encoding="utf-8") == "a;b\n"
    # Publishing a file onto its own key leaves it as it is.
    store.publish("runs/r/in.csv", fetched)
    assert fetched.read_text(encoding="utf-8") == "a;b\n"
    assert store.metadata("runs/r/in.csv") == {}
    with pytest.raises(FileNotFoundError, match="absent"):
        store.fetch("runs/r/absent.csv")


def test_sqs_queue_send_receive_delete(cloud):
    queue = SqsQueue(cloud.work)
    queue.send({"bucket": BUCKET, "key": "incoming/acme/ü.csv", "size": 3})
    received = queue.receive(max_messages=5, wait_s=1)
    assert len(received) == 1
    receipt, message = received[0]
    assert message == {"bucket": BUCKET, "key": "incoming/acme/ü.csv", "size": 3}

    queue.delete(receipt)
    attributes = cloud.sqs.get_queue_attributes(QueueUrl=cloud.work, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "0"
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == "0"


def test_sqs_queue_reports_non_json_body(cloud):
    cloud.sqs.send_message(QueueUrl=cloud.work, MessageBody="not json")
    [(_, message)] = SqsQueue(cloud.work).receive(1)
    assert message == {"invalid_body": "not json"}


def test_sns_publish_reaches_filtered_queue(cloud):
    ops_only = cloud.sqs.create_queue(QueueName="ops-only")["QueueUrl"]
    cloud.sns.subscribe(
        TopicArn=cloud.topic, Protocol="sqs", Endpoint=_queue_arn(cloud.sqs, ops_only),
        Attributes={"RawMessageDelivery": "true", "FilterPolicy": json.dumps({"recipient": ["operations"]})},
    )
    notifier = SnsNotifier(cloud.topic)
    notifier.publish("operations", "waiting for approval: a.csv", "review run-1", "run-1", "waiting_for_approval")
    notifier.publish(CONTACT, "Příliš dlouhý předmět " + "x" * 200, "loaded", None, "loaded")

    everything = _drain(cloud.sqs, cloud.inbox)
    assert sorted(m["Body"] for m in everything) == ["loaded", "review run-1"]
    by_body = {m["Body"]: m for m in everything}
    assert _attribute(by_body["review run-1"], "recipient") == "operations"
    assert _attribute(by_body["review run-1"], "kind") == "waiting_for_approval"
    assert _attribute(by_body["review run-1"], "thread_id") == "run-1"
    assert _attribute(by_body["loaded"], "recipient") == CONTACT
    assert "thread_id" not in by_body["loaded"]["MessageAttributes"]

    filtered = _drain(cloud.sqs, ops_only)
    assert [m["Body"] for m in filtered] == ["review run-1"]


def test_notify_handler_uses_sns(cloud):
    from serverless.functions import notify

    result = notify.handler({"thread_id": "run-9", "recipient": "operations", "subject": "s", "body": "b", "kind": "failed"})
    assert result["kind"] == "failed"
    [message] = _drain(cloud.sqs, cloud.inbox)
    assert _attribute(message, "kind") == "failed"
    assert _attribute(message, "thread_id") == "run-9"


def test_aws_backend_names_missing_setting(home, monkeypatch):
    from serverless import runtime

    monkeypatch.setenv("ONBOARD_BACKEND", "aws")
    for variable in ("ONBOARD_BUCKET", "ONBOARD_QUEUE_URL", "ONBOARD_TOPIC_ARN"):
        monkeypatch.delenv(variable, raising=False)
    with pytest.raises(OnboardError, match="ONBOARD_BUCKET is not set"):
        runtime.store()
    with pytest.raises(OnboardError, match="ONBOARD_QUEUE_URL is not set"):
        runtime.queue()
    with pytest.raises(OnboardError, match="ONBOARD_TOPIC_ARN is not set"):
        runtime.notifier()
    monkeypatch.setenv("ONBOARD_BACKEND", "gcp")
    with pytest.raises(OnboardError, match="ONBOARD_BACKEND='gcp' is invalid"):
        runtime.settings()


def test_local_queue_hides_until_deleted(home):
    queue = LocalQueue(home / "core.sqlite", visibility_timeout_s=0.5)
    queue.send({"key": "incoming/acme/a.csv"})
    queue.send({"key": "incoming/acme/b.csv"})
    first = queue.receive(max_messages=1)
    assert [m for _, m in first] == [{"key": "incoming/acme/a.csv"}]
    second = queue.receive(max_messages=5)
    assert [m for _, m in second] == [{"key": "incoming/acme/b.csv"}]
    assert queue.receive(max_messages=5) == []

    queue.delete(second[0][0])
    # The undeleted message comes back after its visibility timeout, with a new receipt.
    again = queue.receive(max_messages=5, wait_s=2)
    assert [m for _, m in again] == [{"key": "incoming/acme/a.csv"}]
    with pytest.raises(LookupError, match="received again"):
        queue.delete(first[0][0])
    queue.delete(again[0][0])
    assert queue.receive(max_messages=5) == []


def test_local_queue_wait_times_out(home):
    queue = LocalQueue(home / "core.sqlite")
    started = time.monotonic()
    assert queue.receive(max_messages=1, wait_s=0.5) == []
    assert time.monotonic() - started >= 0.5


def test_local_notifier_writes_outbox(home):
    from serverless.functions import notify

    LocalNotifier(home / "core_banking.sqlite").publish("operations", "subject one", "body one", "run-1", "loaded")
    notify.handler({"thread_id": None, "recipient": "client:acme", "subject": "subject two", "body": "body two"})
    with sqlite3.connect(home / "core_banking.sqlite") as connection:
        rows = connection.execute("SELECT thread_id, recipient, subject, body, status FROM outbox ORDER BY id").fetchall()
    assert rows == [("run-1", "operations", "subject one", "body one", "pending"), (None, "client:acme", "subject two", "body two", "pending")]


def _s3_event(key: str, size: int = 10, **overrides) -> dict:
    record = {
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "eu-west-1", "eventTime": "2026-12-01T08:00:00.000Z",
        "eventName": "ObjectCreated:Put",
        "s3": {"s3SchemaVersion": "1.0", "bucket": {"name": BUCKET, "arn": f"arn:aws:s3:::{BUCKET}"}, "object": {"key": key, "size": size, "eTag": "abc"}},
    }
    record.update(overrides)
    return record


def test_s3_event_rejects_bad_records(cloud):
    from serverless.functions import ingest

    cloud.s3.put_object(Bucket=BUCKET, Key="incoming/acme/bad entity/a.csv", Body=b"x")
    cloud.s3.put_object(Bucket=BUCKET, Key="incoming/acme/a.csv", Body=b"x", Metadata={"entity": "loan"})
    event = {"Records": [
        _s3_event("incoming/acme/a.csv", eventSource="aws:sqs"),
        _s3_event("incoming/acme/a.csv", eventName="ObjectRemoved:Delete"),
        _s3_event("uploads/a.csv"),
        _s3_event("incoming/acme/a.csv", size=0),
        _s3_event("incoming%2Facme%2Fbad+entity%2Fa.csv"),
        _s3_event("incoming/acme/a.csv"),
        _s3_event("incoming/acme/gone.csv"),
        {"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": "other-bucket"}, "object": {"key": "incoming/acme/a.csv", "size": 1}}},
    ]}
    result = ingest.handler(event)
    assert result["queued"] == []
    errors = [r["error"] for r in result["rejected"]]
    assert [r["record"] for r in result["rejected"]] == list(range(8))
    assert "eventSource is 'aws:sqs'" in errors[0]
    assert "ObjectRemoved:Delete" in errors[1]
    assert "incoming/<client>/<file>" in errors[2]
    assert "is empty (0 bytes)" in errors[3]
    assert "'bad entity'" in errors[4]
    assert "entity='loan'" in errors[5]
    assert "no longer exists" in errors[6]
    assert "ONBOARD_BUCKET is 'onboard-uploads-test'" in errors[7]
    assert SqsQueue(cloud.work).receive(10) == []

    [notice] = _drain(cloud.sqs, cloud.inbox)
    assert _attribute(notice, "recipient") == "operations"
    assert _attribute(notice, "kind") == "rejected_upload"
    assert "record 2:" in notice["Body"]


def test_s3_event_needs_aws_backend(home):
    from serverless.functions import ingest

    with pytest.raises(OnboardError, match="ONBOARD_BACKEND is local"):
        ingest.handler({"Records": [_s3_event("incoming/acme/a.csv")]})


def test_upload_event_runs_to_approval_and_load(cloud):
    from graph import runner
    from serverless.functions import ingest

    # moto sends the S3 event notification for the upload to this queue, as S3 would.
    events = cloud.sqs.create_queue(QueueName="s3-events")["QueueUrl"]
    cloud.s3.put_bucket_notification_configuration(
        Bucket=BUCKET, NotificationConfiguration={"QueueConfigurations": [{"QueueArn": _queue_arn(cloud.sqs, events), "Events": ["s3:ObjectCreated:*"]}]},
    )
    key = "incoming/northwind/transaction/Northwind 2026-11.csv"
    cloud.s3.upload_file(str(SAMPLE), BUCKET, key, ExtraArgs={"Metadata": {"client-contact": CONTACT}})
    [event] = [json.loads(m["Body"]) for m in _drain(cloud.sqs, events) if "Records" in m["Body"]]
    assert event["Records"][0]["s3"]["object"]["key"] != key  # URL-encoded

    received = ingest.handler(event)
    assert received == {"queued": [{"bucket": BUCKET, "key": key, "client": "northwind"}], "rejected": []}

    [outcome] = runner.start_from_queue(max_messages=10)
    assert outcome["status"] == "waiting_for_approval"
    assert outcome["key"] == key
    assert outcome["entity"] == "transaction"
    assert SqsQueue(cloud.work).receive(10) == []

    notices = _drain(cloud.sqs, cloud.inbox)
    waiting = [m for m in notices if m["Body"].endswith("then approve or reject it.")]
    assert len(waiting) == 1
    assert _attribute(waiting[0], "recipient") == "operations"
    assert _attribute(waiting[0], "thread_id") == outcome["thread_id"]
    assert "12 rows mapped to transaction" in waiting[0]["Body"]

    done = runner.answer(outcome["thread_id"], {"action": "approve", "by": "Dana Reviewer"})
    assert done["status"] == "loaded"
    assert done["rows_loaded"] == 11
    assert done["rows_rejected"] == 1

    loaded = _drain(cloud.sqs, cloud.inbox)
    assert sorted(_attribute(m, "recipient") for m in loaded) == sorted(["operations", CONTACT])
    for message in loaded:
        assert "11 of 12 rows loaded" in message["Body"]
        assert _attribute(message, "thread_id") == outcome["thread_id"]

    with sqlite3.connect(cloud.home / "core_banking.sqlite") as connection:
        amounts = [Decimal(a) for (a,) in connection.execute("SELECT amount FROM transactions WHERE client = 'northwind'")]
        sources = connection.execute("SELECT COUNT(*) FROM loads WHERE thread_id = ?", (outcome["thread_id"],)).fetchone()[0]
    assert len(amounts) == 11
    assert sum(amounts) == Decimal("-2965.85")
    assert sources == 1
    # The run's objects live in the bucket, next to the upload.
    keys = {o["Key"] for o in cloud.s3.list_objects_v2(Bucket=BUCKET)["Contents"]}
    assert f"runs/{done['run_id']}/source/Northwind 2026-11.csv" in keys
    assert f"runs/{done['run_id']}/chunks/00000.parquet" in keys


def test_queue_redelivery_continues_same_run(cloud):
    """A message received twice (the consumer died before deleting it) does not start a second run."""
    from graph import runner

    key = "incoming/northwind/nov.csv"
    cloud.s3.upload_file(str(SAMPLE), BUCKET, key)
    message = {"bucket": BUCKET, "key": key, "client": "northwind", "entity": None, "sequencer": "0A1B"}
    queue = SqsQueue(cloud.work)
    queue.send(message)
    queue.send(message)
    outcomes = runner.start_from_queue(max_messages=10)
    assert [o["status"] for o in outcomes] == ["waiting_for_approval", "waiting_for_approval"]
    assert outcomes[0]["thread_id"] == outcomes[1]["thread_id"]
    notices = _drain(cloud.sqs, cloud.inbox)
    waiting = [m for m in notices if m["Body"].endswith("then approve or reject it.")]
    assert len(waiting) == 1


def _outbox(home: Path) -> list[tuple]:
    with sqlite3.connect(home / "core_banking.sqlite") as connection:
        return connection.execute("SELECT thread_id, recipient, subject, body FROM outbox ORDER BY id").fetchall()


def test_local_worker_runs_queued_upload(home):
    from conftest import onboard_cli

    LocalObjectStore(home / "objects").put_file("incoming/northwind/nov.csv", SAMPLE)
    queue = LocalQueue(home / "core_banking.sqlite")
    queue.send({"key": "incoming/northwind/nov.csv", "client": "northwind", "client_contact": CONTACT})
    queue.send({"key": "incoming/northwind/other.csv"})

    worker = onboard_cli(["worker", "--once", "--wait", "0"], home)
    assert worker.returncode == 0, worker.stderr
    outcomes = [json.loads(line) for line in worker.stdout.splitlines()]
    assert [o["status"] for o in outcomes] == ["waiting_for_approval", "rejected"]
    assert outcomes[1]["error"] == "the message lacks client"
    thread = outcomes[0]["thread_id"]
    assert queue.receive(max_messages=10) == []

    notices = _outbox(home)
    assert [(n[1], n[2]) for n in notices] == [("operations", "waiting for approval: incoming/northwind/nov.csv"), ("operations", "queued upload not started")]
    assert notices[0][0] == thread

    approved = onboard_cli(["approve", thread, "--by", "Dana Reviewer", "--json"], home)
    assert approved.returncode == 0, approved.stderr
    loaded = [n for n in _outbox(home) if "rows loaded" in n[3]]
    assert sorted(n[1] for n in loaded) == sorted(["operations", CONTACT])
    assert all(n[0] == thread for n in loaded)


def test_failed_run_notifies_ops_and_contact(home):
    from graph import runner

    LocalObjectStore(home / "objects").put_bytes("incoming/acme/empty.csv", b"\n\n")
    LocalQueue(home / "core_banking.sqlite").send({"key": "incoming/acme/empty.csv", "client": "acme", "client_contact": CONTACT})
    [outcome] = runner.start_from_queue(max_messages=1)
    assert outcome["status"] == "failed"
    assert "incoming/acme/empty.csv" in outcome["error"]

    notices = _outbox(home)
    assert sorted(n[1] for n in notices) == sorted(["operations", CONTACT])
    for thread_id, _, subject, body in notices:
        assert thread_id == outcome["thread_id"]
        assert subject == "onboarding failed: incoming/acme/empty.csv"
        assert outcome["error"] in body


def test_handlers_import_no_langgraph():
    import subprocess
    import sys

    check = "import sys, serverless.functions.ingest, serverless.functions.notify; print(sorted(m for m in sys.modules if m.startswith(('langgraph', 'langchain'))))"
    completed = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, timeout=60, cwd=Path(__file__).resolve().parents[1])
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "[]"
