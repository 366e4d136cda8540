"""Settings read from the environment.

ONBOARD_HOME is the folder for all state: the object store, the core banking database,
the checkpoints and the format library. It defaults to `.onboard` in the current directory,
so each project folder has its own state and nothing is written to the user's home.
ONBOARD_CHECKPOINT_URL, a PostgreSQL URL, moves the checkpoints out of that folder.

ONBOARD_BACKEND chooses where objects, queue messages and notifications go: `local` (a folder
and tables in the core database) or `aws` (the S3 bucket ONBOARD_BUCKET, the SQS queue
ONBOARD_QUEUE_URL and the SNS topic ONBOARD_TOPIC_ARN). boto3 reads the region, credentials
and AWS_ENDPOINT_URL from the environment itself.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from onboard.errors import OnboardError


@dataclass(frozen=True)
class Settings:
    home: Path
    database_path: Path
    checkpoint_path: Path
    # A postgres:// or postgresql:// URL, or None for the SQLite file at checkpoint_path.
    checkpoint_url: str | None
    object_store: Path
    format_library: Path
    sandbox_timeout_s: float
    sandbox_memory_mb: int
    trial_rows: int
    max_review_rounds: int
    reuse_min_similarity: float
    approver_must_differ: bool
    approvals_for_new_format: int
    chunk_rows: int
    profile_rows: int
    max_workers: int
    backend: str = "local"
    bucket: str | None = None
    queue_url: str | None = None
    topic_arn: str | None = None
    ops_recipient: str = "operations"
    database_busy_timeout_s: float = 30.0
    database_url: str | None = None  # a postgresql:// URL replaces the SQLite file database_path

    def ensure(self) -> "Settings":
        for folder in (self.home, self.object_store, self.format_library):
            folder.mkdir(parents=True, exist_ok=True)
        # The sandbox runs as an unprivileged user; state folders are private to the owner.
        os.chmod(self.home, 0o700)
        return self

    def aws_setting(self, field: str) -> str:
        """Return a required AWS setting, or fail naming its environment variable."""
        value = getattr(self, field)
        if not value:
            variable = AWS_VARIABLES[field]
            raise OnboardError(f"{variable} is not set but ONBOARD_BACKEND=aws needs it. Set {variable} or use ONBOARD_BACKEND=local")
        return value


AWS_VARIABLES = {"bucket": "ONBOARD_BUCKET", "queue_url": "ONBOARD_QUEUE_URL", "topic_arn": "ONBOARD_TOPIC_ARN"}
BACKENDS = ("local", "aws")


def load_settings() -> Settings:
    backend = os.environ.get("ONBOARD_BACKEND", "local").strip().lower() or "local"
    if backend not in BACKENDS:
        raise OnboardError(f"ONBOARD_BACKEND={backend!r} is invalid: use {' or '.join(BACKENDS)}")
    home = Path(os.environ.get("ONBOARD_HOME", ".onboard")).expanduser().resolve()
    return Settings(
        home=home,
        database_path=Path(os.environ.get("ONBOARD_DATABASE", home / "core_banking.sqlite")),
        checkpoint_path=home / "checkpoints.sqlite",
        checkpoint_url=os.environ.get("ONBOARD_CHECKPOINT_URL", "").strip() or None,
        object_store=home / "objects",
        format_library=home / "formats",
        sandbox_timeout_s=float(os.environ.get("ONBOARD_SANDBOX_TIMEOUT_S", "120")),
        sandbox_memory_mb=int(os.environ.get("ONBOARD_SANDBOX_MEMORY_MB", "2048")),
        trial_rows=int(os.environ.get("ONBOARD_TRIAL_ROWS", "200")),
        max_review_rounds=int(os.environ.get("ONBOARD_MAX_REVIEW_ROUNDS", "2")),
        reuse_min_similarity=float(os.environ.get("ONBOARD_REUSE_MIN_SIMILARITY", "0.8")),
        approver_must_differ=os.environ.get("ONBOARD_APPROVER_MUST_DIFFER", "false").lower() in ("1", "true", "yes"),
        approvals_for_new_format=max(1, int(os.environ.get("ONBOARD_APPROVALS_FOR_NEW_FORMAT", "1"))),
        # Rows per chunk object: bounds the memory of each execute and validate invocation.
        chunk_rows=max(1, int(os.environ.get("ONBOARD_CHUNK_ROWS", "50000"))),
        # Rows the analyst profiles and matches on; the first rows of the file.
        profile_rows=max(100, int(os.environ.get("ONBOARD_PROFILE_ROWS", "10000"))),
        # Chunks run in parallel up to this many sandboxes at once.
        max_workers=max(1, int(os.environ.get("ONBOARD_MAX_WORKERS", str(min(4, os.cpu_count() or 1))))),
        backend=backend,
        bucket=os.environ.get("ONBOARD_BUCKET") or None,
        queue_url=os.environ.get("ONBOARD_QUEUE_URL") or None,
        topic_arn=os.environ.get("ONBOARD_TOPIC_ARN") or None,
        ops_recipient=os.environ.get("ONBOARD_OPS_RECIPIENT") or "operations",
        database_busy_timeout_s=float(os.environ.get("ONBOARD_DATABASE_BUSY_TIMEOUT_S", "30")),
        database_url=os.environ.get("ONBOARD_DATABASE_URL") or None,
    )
