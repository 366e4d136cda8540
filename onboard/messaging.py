"""The work queue and the notification topic: tables in the core database locally, SQS and SNS on AWS.

A queue carries JSON objects. `receive` hides each returned message for a visibility timeout
and returns it with a receipt. Only `delete(receipt)` removes it, so the message of a consumer
that dies before deleting is received again. Delivery is at least once.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

from onboard import database
from onboard.storage import aws_client

log = logging.getLogger(__name__)

# Seconds a received message stays hidden from other consumers, the SQS default.
VISIBILITY_TIMEOUT_S = 30
QUEUE_TABLE = """CREATE TABLE IF NOT EXISTS queue_messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT, sent_at REAL NOT NULL, body TEXT NOT NULL,
    receipt TEXT UNIQUE, visible_at REAL NOT NULL, receive_count INTEGER NOT NULL DEFAULT 0)"""


def _body(message: dict) -> str:
    if not isinstance(message, dict):
        raise TypeError(f"a queue message must be a dict, not {type(message).__name__}")
    return json.dumps(message, ensure_ascii=False, sort_keys=True, default=str)


def _parse(body: str, message_id: str) -> dict:
    """Decode a message body. A body that is not a JSON object is returned as `{"invalid_body": body}`."""
    try:
        message = json.loads(body)
    except json.JSONDecodeError:
        message = None
    if not isinstance(message, dict):
        log.error("queue message %s is not a JSON object: %.200r", message_id, body)
        return {"invalid_body": body}
    return message


class LocalQueue:
    """A queue in the `queue_messages` table of the core SQLite database."""

    def __init__(self, database_path: Path, visibility_timeout_s: float = VISIBILITY_TIMEOUT_S):
        self.database_path = database_path
        self.visibility_timeout_s = visibility_timeout_s

    @contextmanager
    def _connect(self):
        with database.connect(self.database_path) as connection:
            connection.execute(QUEUE_TABLE)
            yield connection

    def send(self, message: dict) -> str:
        body = _body(message)
        now = time.time()
        with self._connect() as connection:
            cursor = connection.execute("INSERT INTO queue_messages (sent_at, body, visible_at) VALUES (?, ?, ?)", (now, body, now))
            return str(cursor.lastrowid)

    def _take(self, max_messages: int) -> list[tuple[str, dict]]:
        now = time.time()
        received = []
        with self._connect() as connection:
            # BEGIN IMMEDIATE takes the write lock first, so two consumers never take the same row.
            connection.execute("BEGIN IMMEDIATE")
            try:
                rows = connection.execute(
                    "SELECT id, body FROM queue_messages WHERE visible_at <= ? ORDER BY id LIMIT ?", (now, max_messages)
                ).fetchall()
                for message_id, body in rows:
                    receipt = uuid.uuid4().hex
                    connection.execute(
                        "UPDATE queue_messages SET receipt = ?, visible_at = ?, receive_count = receive_count + 1 WHERE id = ?",
                        (receipt, now + self.visibility_timeout_s, message_id),
                    )
                    received.append((receipt, _parse(body, str(message_id))))
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise
        return received

    def receive(self, max_messages: int = 1, wait_s: float = 0) -> list[tuple[str, dict]]:
        """Return up to `max_messages` visible messages, polling for up to `wait_s` seconds."""
        if max_messages < 1:
            raise ValueError(f"max_messages must be at least 1, not {max_messages}")
        deadline = time.monotonic() + max(0.0, wait_s)
        while True:
            received = self._take(max_messages)
            if received or time.monotonic() >= deadline:
                return received
            time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))

    def delete(self, receipt: str) -> None:
        with self._connect() as connection:
            deleted = connection.execute("DELETE FROM queue_messages WHERE receipt = ?", (receipt,)).rowcount
        if not deleted:
            raise LookupError(f"no queue message has receipt {receipt!r}: it was deleted or received again after its visibility timeout")


class SqsQueue:
    """An SQS queue through boto3, which reads the region, credentials and endpoint from the environment."""

    def __init__(self, queue_url: str, client=None):
        if not queue_url:
            raise ValueError("SqsQueue needs a queue URL")
        self.queue_url = queue_url
        self.client = client or aws_client("sqs")

    def send(self, message: dict) -> str:
        return self.client.send_message(QueueUrl=self.queue_url, MessageBody=_body(message))["MessageId"]

    def receive(self, max_messages: int = 1, wait_s: float = 0) -> list[tuple[str, dict]]:
        """Return up to `max_messages` messages. SQS allows at most 10 messages and 20 seconds of waiting per call."""
        if max_messages < 1:
            raise ValueError(f"max_messages must be at least 1, not {max_messages}")
        response = self.client.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=min(int(max_messages), 10),
            WaitTimeSeconds=min(max(int(wait_s), 0), 20),
        )
        return [(m["ReceiptHandle"], _parse(m["Body"], m["MessageId"])) for m in response.get("Messages", [])]

    def delete(self, receipt: str) -> None:
        self.client.delete_message(QueueUrl=self.queue_url, ReceiptHandle=receipt)


class LocalNotifier:
    """Notifications as rows of the `outbox` table in the core database.

    NOTE: the outbox table has no column for `kind`, so a local notification does not keep it.
    """

    def __init__(self, database_path: Path):
        self.database_path = database_path

    def publish(self, recipient: str, subject: str, body: str, thread_id: str | None = None, kind: str = "notice") -> None:
        database.notify(self.database_path, thread_id, recipient, subject, body)


# SNS rejects a subject longer than 100 characters or with line breaks or non-ASCII characters.
SNS_SUBJECT_MAX = 100


def sns_subject(subject: str) -> str:
    printable = "".join(c if 32 <= ord(c) < 127 else "?" for c in subject.replace("\n", " ").replace("\r", " "))
    return printable[:SNS_SUBJECT_MAX].strip() or "onboarding notification"


class SnsNotifier:
    """Notifications published to an SNS topic.

    The message is the body text. `recipient`, `kind` and `thread_id` travel as message
    attributes, so each subscription can filter with a filter policy on them.
    """

    def __init__(self, topic_arn: str, client=None):
        if not topic_arn:
            raise ValueError("SnsNotifier needs a topic ARN")
        self.topic_arn = topic_arn
        self.client = client or aws_client("sns")

    def publish(self, recipient: str, subject: str, body: str, thread_id: str | None = None, kind: str = "notice") -> str:
        attributes = {"recipient": recipient, "kind": kind}
        if thread_id:
            # SNS rejects an empty attribute value, so a missing thread id is left out.
            attributes["thread_id"] = thread_id
        response = self.client.publish(
            TopicArn=self.topic_arn,
            Subject=sns_subject(subject),
            Message=body,
            MessageAttributes={name: {"DataType": "String", "StringValue": value} for name, value in attributes.items()},
        )
        return response["MessageId"]
