"""Send a notification: locally, a row in the outbox table of the core database."""

from __future__ import annotations

from onboard import database
from serverless import runtime


def handler(event: dict, context=None) -> dict:
    """Event: {thread_id, recipient, subject, body}."""
    database.notify(runtime.settings().database_path, event.get("thread_id"), event["recipient"], event["subject"], event["body"])
    return {"queued": True, "recipient": event["recipient"]}
