"""The `core_database` fixture: each test using it runs once on SQLite and once on PostgreSQL.

The PostgreSQL run needs a server: ONBOARD_TEST_POSTGRES_URL is its URL (.ci/start-postgres
starts one on 127.0.0.1 and prints it), and without it that run is skipped. Each test gets its
own PostgreSQL schema through the URL's search_path option, dropped afterwards.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import quote

import pytest

from onboard.settings import load_settings


@dataclass
class CoreDatabase:
    kind: str  # sqlite or postgresql
    url: str | None = None  # the PostgreSQL URL with this test's search_path, None for SQLite
    schema: str | None = None  # this test's PostgreSQL schema

    def rows(self, sql: str, *params) -> list[tuple]:
        """Run a query with `?` placeholders on the database the product uses."""
        if self.url is None:
            connection = sqlite3.connect(load_settings().database_path, timeout=30)
            try:
                return connection.execute(sql, params).fetchall()
            finally:
                connection.close()
        import psycopg

        with psycopg.connect(self.url) as connection:
            return connection.execute(sql.replace("?", "%s"), params).fetchall()

    def load_lock_held(self) -> bool:
        """True while another connection holds the lock a load takes (SQLite's write lock, or the lock on `loads`)."""
        if self.url is None:
            connection = sqlite3.connect(load_settings().database_path, timeout=0, isolation_level=None)
            try:
                connection.execute("BEGIN IMMEDIATE")
                connection.execute("ROLLBACK")
                return False
            except sqlite3.OperationalError as error:
                if "locked" not in str(error):
                    raise
                return True
            finally:
                connection.close()
        held = self.rows(
            "SELECT COUNT(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relname = 'loads' AND n.nspname = ? AND l.mode = 'ShareRowExclusiveLock' AND l.granted",
            self.schema,
        )
        return held[0][0] > 0


@pytest.fixture(params=["sqlite", "postgresql"])
def core_database(request, home, monkeypatch):
    if request.param == "sqlite":
        monkeypatch.delenv("ONBOARD_DATABASE_URL", raising=False)
        yield CoreDatabase("sqlite")
        return
    with fresh_postgres_schema() as (url, schema):
        monkeypatch.setenv("ONBOARD_DATABASE_URL", url)
        yield CoreDatabase("postgresql", url, schema)


@contextmanager
def fresh_postgres_schema() -> Iterator[tuple[str, str]]:
    """Create a schema on the test server and yield (URL whose search_path is it, schema); drop it afterwards.

    Skips the test when ONBOARD_TEST_POSTGRES_URL is unset.
    """
    server = os.environ.get("ONBOARD_TEST_POSTGRES_URL")
    if not server:
        pytest.skip("ONBOARD_TEST_POSTGRES_URL is not set: run .ci/start-postgres and export the URL it prints")
    import psycopg

    schema = f"onboard_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in server else "?"
    try:
        yield f"{server}{separator}options={quote(f'-csearch_path={schema}')}", schema
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
