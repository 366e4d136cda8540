"""PostgreSQL as the core banking database, chosen by ONBOARD_DATABASE_URL=postgresql://...

`onboard.database` writes its SQL once, with SQLite's `?` placeholders. PostgresConnection
offers the small part of sqlite3.Connection that it uses (execute, executemany, in_transaction, close) and
converts the placeholders for psycopg 3. The connection runs in autocommit mode, so explicit
BEGIN and COMMIT statements work as they do with SQLite's isolation_level=None.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from onboard.errors import DatabaseUnavailable

URL_SCHEMES = ("postgresql://", "postgres://")
SCHEMA_LOCK_KEY = 7_316_482  # advisory lock that serialises CREATE TABLE IF NOT EXISTS across processes


def is_postgres_url(url: str | None) -> bool:
    return bool(url) and url.startswith(URL_SCHEMES)


def redact(url: str) -> str:
    """Return the URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    user = f"{parts.username}:***@" if parts.username else ""
    return urlunsplit((parts.scheme, user + host, parts.path, parts.query, parts.fragment))


class PostgresConnection:
    """A psycopg 3 connection that accepts the SQL `onboard.database` writes for SQLite."""

    dialect = "postgresql"

    def __init__(self, url: str, lock_timeout_s: float):
        import psycopg

        self.url = url
        self.raw = psycopg.connect(url, autocommit=True)
        self.raw.execute(f"SET lock_timeout = '{int(lock_timeout_s * 1000)}ms'")

    def execute(self, sql: str, params=()):
        if params:
            # Literal percent signs must be doubled once psycopg formats parameters.
            return self.raw.execute(sql.replace("%", "%%").replace("?", "%s"), tuple(params))
        return self.raw.execute(sql)

    def executemany(self, sql: str, rows) -> None:
        rows = [tuple(row) for row in rows]
        if rows:
            with self.raw.cursor() as cursor:
                cursor.executemany(sql.replace("%", "%%").replace("?", "%s"), rows)

    @property
    def in_transaction(self) -> bool:
        from psycopg.pq import TransactionStatus

        return self.raw.info.transaction_status != TransactionStatus.IDLE

    def close(self) -> None:
        self.raw.close()


def connect(url: str, lock_timeout_s: float) -> PostgresConnection:
    import psycopg

    try:
        return PostgresConnection(url, lock_timeout_s)
    except psycopg.OperationalError as error:
        raise DatabaseUnavailable(
            f"could not connect to the core database {redact(url)}: {str(error).strip()}. "
            "Check ONBOARD_DATABASE_URL and that the server is running, then resume the run"
        ) from error


def unavailable(url: str, error: Exception, timeout_s: float) -> DatabaseUnavailable | None:
    """Convert a lock timeout, a full disk or a lost connection to DatabaseUnavailable; None for other errors."""
    import psycopg
    from psycopg import errors

    where = redact(url)
    if isinstance(error, errors.LockNotAvailable):
        return DatabaseUnavailable(
            f"the core database {where} is locked by another connection (waited {timeout_s:g} s): {str(error).strip()}. "
            "This step wrote nothing; resume the run once the other connection has finished"
        )
    if isinstance(error, (errors.DiskFull, errors.OutOfMemory, errors.InsufficientResources)):
        return DatabaseUnavailable(
            f"the core database {where} is full: {str(error).strip()}. This step was rolled back and wrote nothing; "
            "free space on the database server and resume the run"
        )
    if isinstance(error, psycopg.OperationalError):
        return DatabaseUnavailable(
            f"the connection to the core database {where} failed: {str(error).strip()}. "
            "This step was rolled back; resume the run once the server is reachable"
        )
    return None


def create_schema(connection: PostgresConnection, statements: list[str]) -> None:
    """Create the tables in one transaction, one process at a time.

    Concurrent CREATE TABLE IF NOT EXISTS can fail in PostgreSQL with a unique violation on
    the system catalogue, so the advisory lock serialises it.
    """
    connection.execute("BEGIN")
    try:
        connection.execute(f"SELECT pg_advisory_xact_lock({SCHEMA_LOCK_KEY})")
        for statement in statements:
            connection.execute(statement)
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
