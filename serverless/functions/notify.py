"""Send a notification through the notifier ONBOARD_BACKEND chooses: the outbox table or an SNS topic."""

from __future__ import annotations

from serverless import runtime


def handler(event: dict, context=None) -> dict:
    """Event: {thread_id, recipient, subject, body, kind}. `kind` (for example waiting_for_approval,
    loaded or failed) lets SNS subscriptions filter and defaults to `notice`."""
    kind = event.get("kind") or "notice"
    runtime.notifier().publish(event["recipient"], event["subject"], event["body"], event.get("thread_id"), kind)
    return {"queued": True, "recipient": event["recipient"], "kind": kind}
