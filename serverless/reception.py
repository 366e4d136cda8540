"""Reception of client files uploaded to S3: validate each S3 event record and queue one message per object.

Clients upload to `incoming/<client>/<file>` or `incoming/<client>/<entity>/<file>`. An object's
user metadata may name the entity (`entity`) and whom to tell about the run (`client-contact`).
This module reads no file and imports nothing from LangGraph or LangChain.
"""

from __future__ import annotations

import logging
from urllib.parse import unquote_plus

from onboard.errors import OnboardError
from serverless import runtime

log = logging.getLogger(__name__)

INCOMING_PREFIX = "incoming"
ENTITIES = ("customer", "account", "transaction")


class InvalidRecord(ValueError):
    """An S3 event record that cannot start a run. The message names the field."""


def _field(record: dict, path: tuple[str, ...]):
    value = record
    for name in path:
        if not isinstance(value, dict) or name not in value:
            raise InvalidRecord(f"{'.'.join(path)} is missing")
        value = value[name]
    return value


def parse_record(record: dict, bucket: str) -> dict:
    """Return the queue message for one S3 event record, or raise InvalidRecord naming the field."""
    if not isinstance(record, dict):
        raise InvalidRecord(f"record is a {type(record).__name__}, not an object")
    source = _field(record, ("eventSource",))
    if source != "aws:s3":
        raise InvalidRecord(f"eventSource is {source!r}, expected 'aws:s3'")
    name = _field(record, ("eventName",))
    if not str(name).startswith("ObjectCreated:"):
        raise InvalidRecord(f"eventName is {name!r}, expected an ObjectCreated event")
    record_bucket = _field(record, ("s3", "bucket", "name"))
    if record_bucket != bucket:
        raise InvalidRecord(f"s3.bucket.name is {record_bucket!r}, but ONBOARD_BUCKET is {bucket!r}")
    raw_key = _field(record, ("s3", "object", "key"))
    if not isinstance(raw_key, str) or not raw_key:
        raise InvalidRecord("s3.object.key is empty")
    # S3 URL-encodes the key in event notifications, with '+' for a space.
    key = unquote_plus(raw_key)
    size = _field(record, ("s3", "object", "size"))
    if not isinstance(size, int) or size < 0:
        raise InvalidRecord(f"s3.object.size is {size!r}, expected a whole number of bytes")
    if size == 0:
        raise InvalidRecord(f"object {key!r} is empty (0 bytes), upload the file again")

    parts = key.split("/")
    if len(parts) < 3 or parts[0] != INCOMING_PREFIX or not all(parts) or ".." in parts:
        raise InvalidRecord(f"object key {key!r} is not {INCOMING_PREFIX}/<client>/<file> or {INCOMING_PREFIX}/<client>/<entity>/<file>")
    entity = parts[2] if len(parts) == 4 and parts[2] in ENTITIES else None
    if len(parts) > 4 or (len(parts) == 4 and entity is None):
        raise InvalidRecord(f"object key {key!r} has folder {parts[2]!r} after the client, but only an entity ({', '.join(ENTITIES)}) may stand there")

    message = {
        "bucket": record_bucket,
        "key": key,
        "size": size,
        "client": parts[1],
        "entity": entity,
        "event_time": record.get("eventTime"),
        # S3 gives later uploads of one key a greater sequencer, so key and sequencer identify one upload.
        # Without a sequencer the eTag is used, and an identical re-upload then counts as the same upload.
        "sequencer": (record["s3"]["object"].get("sequencer") or record["s3"]["object"].get("eTag") or ""),
    }
    return message


def _with_metadata(message: dict) -> dict:
    """Add the entity and client contact from the object's user metadata, when it has them."""
    try:
        metadata = runtime.store().metadata(message["key"])
    except FileNotFoundError as error:
        raise InvalidRecord(f"object {message['key']!r} no longer exists in the bucket") from error
    entity = (metadata.get("entity") or "").strip().lower()
    if entity and entity not in ENTITIES:
        raise InvalidRecord(f"object {message['key']!r} has invalid metadata entity={entity!r}, use one of {', '.join(ENTITIES)}")
    if entity and message["entity"] and entity != message["entity"]:
        raise InvalidRecord(f"object {message['key']!r} is in folder {message['entity']!r} but its metadata has entity={entity!r}")
    return {**message, "entity": message["entity"] or entity or None, "client_contact": (metadata.get("client-contact") or "").strip() or None}


def queue_new_objects(event: dict) -> dict:
    """Validate every record of an S3 event and queue one message per valid object.

    An invalid record does not stop the others: it is logged, reported to the operations
    recipient and returned under `rejected`.
    """
    settings = runtime.settings()
    if settings.backend != "aws":
        raise OnboardError("received an S3 event but ONBOARD_BACKEND is local. Set ONBOARD_BACKEND=aws and ONBOARD_BUCKET to receive uploads")
    records = event.get("Records")
    if not isinstance(records, list) or not records:
        raise OnboardError("the event has no Records list, so it is not an S3 event notification")
    bucket = settings.aws_setting("bucket")
    queue = runtime.queue()
    queued, rejected = [], []
    for index, record in enumerate(records):
        try:
            message = _with_metadata(parse_record(record, bucket))
        except InvalidRecord as error:
            log.error("S3 event record %d rejected: %s", index, error)
            rejected.append({"record": index, "error": str(error)})
            continue
        queue.send(message)
        log.info("queued s3://%s/%s for client %s", message["bucket"], message["key"], message["client"])
        queued.append({"bucket": message["bucket"], "key": message["key"], "client": message["client"]})
    if rejected:
        body = "\n".join(f"record {r['record']}: {r['error']}" for r in rejected)
        runtime.notifier().publish(settings.ops_recipient, f"{len(rejected)} uploaded file(s) not accepted", body, None, "rejected_upload")
    return {"queued": queued, "rejected": rejected}
