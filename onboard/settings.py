"""Settings read from the environment.

ONBOARD_HOME is the folder for all state: the object store, the core banking database,
the checkpoints and the format library. It defaults to `.onboard` in the current directory,
so each project folder has its own state and nothing is written to the user's home.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    home: Path
    database_path: Path
    checkpoint_path: Path
    object_store: Path
    format_library: Path
    sandbox_timeout_s: float
    sandbox_memory_mb: int
    trial_rows: int
    max_review_rounds: int
    reuse_min_similarity: float
    approver_must_differ: bool
    approvals_for_new_format: int
    database_busy_timeout_s: float = 30.0
    database_url: str | None = None  # a postgresql:// URL replaces the SQLite file database_path

    def ensure(self) -> "Settings":
        for folder in (self.home, self.object_store, self.format_library):
            folder.mkdir(parents=True, exist_ok=True)
        # The sandbox runs as an unprivileged user; state folders are private to the owner.
        os.chmod(self.home, 0o700)
        return self


def load_settings() -> Settings:
    home = Path(os.environ.get("ONBOARD_HOME", ".onboard")).expanduser().resolve()
    return Settings(
        home=home,
        database_path=Path(os.environ.get("ONBOARD_DATABASE", home / "core_banking.sqlite")),
        checkpoint_path=home / "checkpoints.sqlite",
        object_store=home / "objects",
        format_library=home / "formats",
        sandbox_timeout_s=float(os.environ.get("ONBOARD_SANDBOX_TIMEOUT_S", "120")),
        sandbox_memory_mb=int(os.environ.get("ONBOARD_SANDBOX_MEMORY_MB", "2048")),
        trial_rows=int(os.environ.get("ONBOARD_TRIAL_ROWS", "200")),
        max_review_rounds=int(os.environ.get("ONBOARD_MAX_REVIEW_ROUNDS", "2")),
        reuse_min_similarity=float(os.environ.get("ONBOARD_REUSE_MIN_SIMILARITY", "0.8")),
        approver_must_differ=os.environ.get("ONBOARD_APPROVER_MUST_DIFFER", "false").lower() in ("1", "true", "yes"),
        approvals_for_new_format=max(1, int(os.environ.get("ONBOARD_APPROVALS_FOR_NEW_FORMAT", "1"))),
        database_busy_timeout_s=float(os.environ.get("ONBOARD_DATABASE_BUSY_TIMEOUT_S", "30")),
        database_url=os.environ.get("ONBOARD_DATABASE_URL") or None,
    )
