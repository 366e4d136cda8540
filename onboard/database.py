"""The core banking database: tables from the target schema, idempotent loads, reconciliation.

SQLite by default (a real database file), PostgreSQL when ONBOARD_DATABASE_URL is a
postgresql:// URL (see onboard/postgres.py). Money is stored as exact decimal text and summed
with Decimal, never as a binary float. A load is one transaction: it either lands whole or
not at all, so a run killed during a load can simply load again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import pandas as pd
from pydantic import BaseModel, Field

from onboard import postgres
from onboard.errors import DatabaseUnavailable, OnboardError
from onboard.schema import Entity, TargetSchema, load_schema
from onboard.settings import load_settings

TABLES = {"customer": "customers", "account": "accounts", "transaction": "transactions"}
META_COLUMNS = "client TEXT, load_id TEXT NOT NULL, source_line INTEGER, row_sha256 TEXT NOT NULL, placeholder INTEGER NOT NULL DEFAULT 0"


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def _column_sql(name: str, field_type: str, required: bool, values: list[str] | None, key: str, dialect: str = "sqlite") -> str:
    parts = [f'"{name}" TEXT']
    if name == key:
        parts.append("PRIMARY KEY")
    elif required:
        # Placeholder rows, created for references to records not yet onboarded, may lack values.
        parts.append(f'CHECK (placeholder = 1 OR "{name}" IS NOT NULL)')
    if field_type == "date" and dialect == "postgresql":
        # An impossible date such as 2026-11-31 makes the cast fail, which rejects the row too.
        parts.append(f"""CHECK ("{name}" IS NULL OR to_char("{name}"::date, 'YYYY-MM-DD') = "{name}")""")
    elif field_type == "date":
        parts.append(f'CHECK ("{name}" IS NULL OR date("{name}") = "{name}")')
    elif field_type == "decimal" and dialect == "postgresql":
        parts.append(f"""CHECK ("{name}" IS NULL OR ("{name}" ~ '[0-9]' AND "{name}" !~ '[^0-9.-]'))""")
    elif field_type == "decimal":
        parts.append(f"""CHECK ("{name}" IS NULL OR ("{name}" GLOB '*[0-9]*' AND "{name}" NOT GLOB '*[^0-9.-]*'))""")
    elif field_type == "currency":
        parts.append(f'CHECK ("{name}" IS NULL OR length("{name}") = 3)')
    elif field_type == "enum" and values:
        allowed = ", ".join(f"'{x}'" for x in values)
        parts.append(f'CHECK ("{name}" IS NULL OR "{name}" IN ({allowed}))')
    return " ".join(parts)


def create_schema_sql(schema: TargetSchema, dialect: str = "sqlite") -> list[str]:
    statements = []
    for entity_name in ("customer", "account", "transaction"):
        entity = schema.entity(entity_name)
        columns = [_column_sql(n, f.type, f.required, f.values, entity.key, dialect) for n, f in entity.fields.items()]
        for column, parent in entity.references.items():
            parent_entity = schema.entity(parent)
            columns.append(f'FOREIGN KEY ("{column}") REFERENCES {TABLES[parent]}("{parent_entity.key}")')
        statements.append(f"CREATE TABLE IF NOT EXISTS {TABLES[entity_name]} ({', '.join(columns[:len(entity.fields)])}, {META_COLUMNS}{''.join(', ' + c for c in columns[len(entity.fields):])})")
    statements += [
        """CREATE TABLE IF NOT EXISTS loads (
            load_id TEXT PRIMARY KEY, thread_id TEXT, client TEXT, entity TEXT NOT NULL,
            file_sha256 TEXT NOT NULL, script_sha256 TEXT NOT NULL, rows_in INTEGER NOT NULL,
            rows_inserted INTEGER NOT NULL, rows_existing INTEGER NOT NULL, rows_updated INTEGER NOT NULL,
            rows_rejected INTEGER NOT NULL, placeholders INTEGER NOT NULL, loaded_at TEXT NOT NULL)""",
        """CREATE TABLE IF NOT EXISTS load_rows (
            load_id TEXT NOT NULL REFERENCES loads(load_id), row_key TEXT NOT NULL, outcome TEXT NOT NULL,
            PRIMARY KEY (load_id, row_key))""",
        """CREATE TABLE IF NOT EXISTS rejected_rows (
            load_id TEXT NOT NULL REFERENCES loads(load_id), source_line INTEGER, stage TEXT NOT NULL, reason TEXT NOT NULL)""",
        """CREATE TABLE IF NOT EXISTS audit (
            id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, run_id TEXT, thread_id TEXT,
            actor TEXT NOT NULL, action TEXT NOT NULL, detail TEXT)""",
        """CREATE TABLE IF NOT EXISTS outbox (
            id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, thread_id TEXT, recipient TEXT NOT NULL,
            subject TEXT NOT NULL, body TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'pending')""",
    ]
    if dialect == "postgresql":
        statements = [s.replace("INTEGER PRIMARY KEY AUTOINCREMENT", "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY") for s in statements]
    return statements


def _unavailable(path: Path, error: sqlite3.OperationalError, timeout_s: float) -> DatabaseUnavailable | None:
    """Convert SQLite's locked, full and write errors to DatabaseUnavailable naming the next step; None for others."""
    name = getattr(error, "sqlite_errorname", "") or ""
    text = str(error).lower()
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in text:
        return DatabaseUnavailable(
            f"the core database {path} is locked by another connection (waited {timeout_s:g} s): {error}. "
            "This step wrote nothing; resume the run once the other connection has finished"
        )
    if name == "SQLITE_FULL":
        return DatabaseUnavailable(
            f"the core database {path} is full: {error}. This step was rolled back and wrote nothing; "
            "free disk space (or raise the file-size limit) and resume the run"
        )
    if name == "SQLITE_IOERR_WRITE":
        # SQLite reports a write that failed outright (ENOSPC or EFBIG before the first byte,
        # or a failing disk) as an I/O error rather than as SQLITE_FULL.
        return DatabaseUnavailable(
            f"the core database {path} could not be written ({name}: {error}): the disk may be full, a "
            "file-size limit reached or the disk failing. This step was rolled back and wrote nothing; "
            "fix the cause and resume the run"
        )
    return None


_POSTGRES_SCHEMAS_CREATED: set[str] = set()


@contextmanager
def connect(path: Path):
    """Open the core database, creating its tables. Raise DatabaseUnavailable when it is locked, full or unwritable.

    With ONBOARD_DATABASE_URL set to a postgresql:// URL, that database is used and `path` is not.
    """
    settings = load_settings()
    timeout_s = settings.database_busy_timeout_s
    if settings.database_url and not postgres.is_postgres_url(settings.database_url):
        raise OnboardError(
            f"ONBOARD_DATABASE_URL must be a postgresql:// URL, not {postgres.redact(settings.database_url)!r}; "
            "unset it to use the SQLite file in ONBOARD_HOME"
        )
    if settings.database_url:
        with _connect_postgres(settings.database_url, timeout_s) as connection:
            yield connection
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path, timeout=timeout_s, isolation_level=None)
    try:
        connection.execute("PRAGMA foreign_keys = ON")
        connection.execute("PRAGMA journal_mode = WAL")
        for statement in create_schema_sql(load_schema()):
            connection.execute(statement)
        yield connection
    except sqlite3.OperationalError as error:
        clear = _unavailable(path, error, timeout_s)
        if clear is None:
            raise
        raise clear from error
    finally:
        connection.close()


@contextmanager
def _connect_postgres(url: str, timeout_s: float):
    import psycopg

    connection = postgres.connect(url, timeout_s)
    try:
        if url not in _POSTGRES_SCHEMAS_CREATED:
            postgres.create_schema(connection, create_schema_sql(load_schema(), "postgresql"))
            _POSTGRES_SCHEMAS_CREATED.add(url)
        yield connection
    except psycopg.Error as error:
        clear = postgres.unavailable(url, error, timeout_s)
        if clear is None:
            raise
        raise clear from error
    finally:
        connection.close()


def _begin_write(connection) -> None:
    """Start a transaction that holds the write lock, so that loads run one at a time.

    SQLite has one writer anyway. In PostgreSQL the lock on `loads` serialises loads only, so
    that a second load of a file sees the first one committed; audit and outbox rows still
    go in meanwhile.
    """
    if getattr(connection, "dialect", "sqlite") == "postgresql":
        connection.execute("BEGIN")
        connection.execute("LOCK TABLE loads IN SHARE ROW EXCLUSIVE MODE")
    else:
        connection.execute("BEGIN IMMEDIATE")


def audit(path: Path, action: str, actor: str, thread_id: str | None = None, run_id: str | None = None, detail: dict | None = None) -> None:
    with connect(path) as connection:
        connection.execute(
            "INSERT INTO audit (at, run_id, thread_id, actor, action, detail) VALUES (?, ?, ?, ?, ?, ?)",
            (_now(), run_id, thread_id, actor, action, json.dumps(detail or {}, ensure_ascii=False, default=str)),
        )


def notify(path: Path, thread_id: str | None, recipient: str, subject: str, body: str) -> None:
    with connect(path) as connection:
        connection.execute(
            "INSERT INTO outbox (at, thread_id, recipient, subject, body) VALUES (?, ?, ?, ?, ?)",
            (_now(), thread_id, recipient, subject, body),
        )


def _verify_before_commit(connection, entity: Entity, load_id: str, expected: dict[str, Decimal] | None, rows_in: int) -> None:
    """Check counts and control totals inside the load's transaction; raise to roll it back.

    `expected` contains the per-currency totals of the rows offered and not rejected, or None
    when the entity has no amount.
    """
    loaded = connection.execute("SELECT COUNT(*) FROM load_rows WHERE load_id = ?", (load_id,)).fetchone()[0]
    rejected = connection.execute("SELECT COUNT(*) FROM rejected_rows WHERE load_id = ?", (load_id,)).fetchone()[0]
    if loaded + rejected != rows_in:
        raise LoadVerificationError(f"{rows_in} source rows but {loaded} loaded + {rejected} rejected; nothing was loaded")
    if expected is not None:
        found = _loaded_totals(connection, entity, load_id)
        if expected != found:
            raise LoadVerificationError(f"control totals differ (converted {expected}, written {found}); nothing was loaded")


class LoadResult(BaseModel):
    load_id: str
    entity: str
    rows_offered: int
    rows_inserted: int
    rows_existing: int
    rows_updated: int
    rows_conflicting: int
    placeholders: int
    conflicts: list[dict] = Field(default_factory=list)
    keys: list[str] = Field(default_factory=list)
    already_loaded: bool = Field(False, description="the same file was loaded before with the same script; this is that load and nothing was written")


def _cell_text(value) -> str | None:
    if value is None or (isinstance(value, float) and value != value):
        return None
    return str(value)


def _row_values(valid: pd.DataFrame, fields: list[str]) -> list[dict]:
    """Return each row as {field: text or None}; a field the frame lacks is None."""
    columns = {f: ([_cell_text(x) for x in valid[f].tolist()] if f in valid.columns else [None] * len(valid)) for f in fields}
    return [dict(zip(fields, cells)) for cells in zip(*(columns[f] for f in fields))] if len(valid) else []


def _current_rows(connection: sqlite3.Connection, table: str, key: str, wanted: set[str]) -> dict[str, tuple]:
    """{key: (row_sha256, placeholder, load_id)} of the rows already stored under the wanted keys."""
    found: dict[str, tuple] = {}
    ordered = sorted(k for k in wanted if k is not None)
    for start in range(0, len(ordered), 500):
        batch = ordered[start:start + 500]
        marks = ", ".join("?" for _ in batch)
        for row in connection.execute(f'SELECT "{key}", row_sha256, placeholder, load_id FROM {table} WHERE "{key}" IN ({marks})', batch):
            found[row[0]] = row[1:]
    return found


def _keys_in_load(connection, load_id: str, wanted: set[str]) -> set[str]:
    """Return the keys among `wanted` that this load has already recorded in load_rows."""
    found: set[str] = set()
    ordered = sorted(k for k in wanted if k is not None)
    for start in range(0, len(ordered), 500):
        batch = ordered[start:start + 500]
        marks = ", ".join("?" for _ in batch)
        found.update(row[0] for row in connection.execute(f"SELECT row_key FROM load_rows WHERE load_id = ? AND row_key IN ({marks})", [load_id, *batch]))
    return found


def _row_sha(values: dict) -> str:
    return hashlib.sha256(json.dumps(values, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


def load_rows(
    path: Path,
    entity: Entity,
    valid: pd.DataFrame | Iterable[pd.DataFrame],
    rejected: list[dict],
    *,
    thread_id: str | None,
    client: str | None,
    file_sha256: str,
    script_sha256: str,
    rows_in: int,
) -> LoadResult:
    """Load valid rows in one transaction; rows already present unchanged count as existing.

    `valid` is one frame or the frames of a file's chunks in order; one chunk is in memory at
    a time. A row whose key exists with different values is not overwritten: it is rejected
    as a conflict, unless the existing row is a placeholder, which it then replaces.

    A file (by SHA-256) that was already loaded for this entity with the same script is not
    loaded again. The result is then that earlier load, marked `already_loaded`, and nothing is
    written. This covers two runs on the same file at once (BEGIN IMMEDIATE makes the second
    wait for the first) and a run resumed after a crash between its commit and its checkpoint.
    """
    frames = [valid] if isinstance(valid, pd.DataFrame) else valid
    table = TABLES[entity.name]
    fields = list(entity.fields)
    amount, currency = _amount_columns(entity)
    load_id = f"load-{uuid.uuid4().hex[:16]}"
    counts = Counter()
    conflicts: list[dict] = []
    expected: dict[str, Decimal] = defaultdict(Decimal)
    offered = 0
    with connect(path) as connection:
        _begin_write(connection)
        try:
            earlier = connection.execute(
                "SELECT load_id FROM loads WHERE file_sha256 = ? AND script_sha256 = ? AND entity = ? ORDER BY loaded_at, load_id LIMIT 1",
                (file_sha256, script_sha256, entity.name),
            ).fetchone()
            if earlier is not None:
                connection.execute("ROLLBACK")
                return _earlier_load(connection, entity, earlier[0])
            connection.execute(
                "INSERT INTO loads VALUES (?, ?, ?, ?, ?, ?, ?, 0, 0, 0, 0, 0, ?)",
                (load_id, thread_id, client, entity.name, file_sha256, script_sha256, rows_in, _now()),
            )
            for frame in frames:
                offered += len(frame)
                counts["placeholder"] += _add_placeholders(connection, entity, frame, client, load_id)
                refused = _load_chunk(connection, entity, table, fields, frame, client, load_id, counts)
                conflicts += [{"line": line, "reason": reason} for line, reason in refused]
                if amount and amount in frame.columns:
                    refused_lines = {line for line, _ in refused}
                    kept = frame[~frame["_line"].isin(refused_lines)] if "_line" in frame.columns and refused_lines else frame
                    for ccy, total in _totals(kept, amount, currency).items():
                        expected[ccy] += total
            connection.executemany("INSERT INTO rejected_rows VALUES (?, ?, ?, ?)", [(load_id, item.get("line"), item.get("stage", "transform"), item["reason"]) for item in rejected])
            connection.execute(
                "UPDATE loads SET rows_inserted = ?, rows_existing = ?, rows_updated = ?, rows_rejected = ?, placeholders = ? WHERE load_id = ?",
                (counts["inserted"], counts["existing"], counts["updated"], len(rejected) + len(conflicts), counts["placeholder"], load_id),
            )
            _verify_before_commit(connection, entity, load_id, dict(expected) if amount else None, rows_in)
            connection.execute("COMMIT")
        except BaseException:
            # SQLite may have rolled back by itself already, for example after SQLITE_FULL.
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
    return LoadResult(
        load_id=load_id, entity=entity.name, rows_offered=offered, rows_inserted=counts["inserted"],
        rows_existing=counts["existing"], rows_updated=counts["updated"], rows_conflicting=len(conflicts),
        placeholders=counts["placeholder"], conflicts=conflicts,
    )


def _add_placeholders(connection, entity: Entity, frame: pd.DataFrame, client: str | None, load_id: str) -> int:
    """Insert a placeholder parent for each reference this chunk names that is not stored yet."""
    schema = load_schema()
    added = 0
    for column, parent in entity.references.items():
        parent_entity = schema.entity(parent)
        parent_table = TABLES[parent]
        wanted = {str(x) for x in frame.get(column, pd.Series(dtype=object)).dropna()}
        for ref in sorted(wanted):
            found = connection.execute(f'SELECT 1 FROM {parent_table} WHERE "{parent_entity.key}" = ?', (ref,)).fetchone()
            if not found:
                connection.execute(
                    f'INSERT INTO {parent_table} ("{parent_entity.key}", client, load_id, row_sha256, placeholder) VALUES (?, ?, ?, ?, 1)',
                    (ref, client, load_id, "placeholder"),
                )
                added += 1
    return added


def _load_chunk(connection, entity: Entity, table: str, fields: list[str], frame: pd.DataFrame, client: str | None,
                load_id: str, counts: Counter) -> list[tuple[int | None, str]]:
    """Insert, confirm or replace each row of one chunk, and return the rejected rows (line, reason).

    A key seen earlier in the same file is found in this load's load_rows, not in memory, so a
    large file's load keeps one chunk in memory at a time.
    """
    placeholders_sql = ", ".join("?" for _ in fields)
    column_sql = ", ".join(f'"{f}"' for f in fields)
    assignments = ", ".join(f'"{f}" = ?' for f in fields)
    rows = _row_values(frame, fields)
    lines = [int(x) for x in frame["_line"]] if "_line" in frame.columns else [None] * len(rows)
    keys = {row[entity.key] for row in rows}
    current = _current_rows(connection, table, entity.key, keys)
    # Keys an earlier chunk of this file already wrote, with the digest stored for them.
    written = {key: current[key][0] for key in _keys_in_load(connection, load_id, keys) if key in current}
    inserts, updates, outcomes, refused = [], [], [], []
    for values, line in zip(rows, lines):
        key = values[entity.key]
        digest = _row_sha(values)
        if key in written:
            # The same key twice in one file: one row in the table, the second refused.
            if written[key] == digest:
                reason = f"{entity.key} {key!r} appears twice in the file"
            else:
                reason = f"{entity.key} {key!r} already exists with different values (loaded by {load_id}); not overwritten"
            refused.append((line, reason))
            continue
        found = current.get(key)
        ordered = [values[f] for f in fields]
        if found is None:
            inserts.append(ordered + [client, load_id, line, digest])
            outcome = "inserted"
        elif found[0] == digest:
            outcome = "existing"
        elif found[1] == 1:
            updates.append(ordered + [client, load_id, line, digest, key])
            outcome = "updated"
        else:
            refused.append((line, f"{entity.key} {key!r} already exists with different values (loaded by {found[2]}); not overwritten"))
            continue
        written[key] = digest
        outcomes.append((load_id, key, outcome))
        counts[outcome] += 1
    connection.executemany(
        f"INSERT INTO {table} ({column_sql}, client, load_id, source_line, row_sha256, placeholder) VALUES ({placeholders_sql}, ?, ?, ?, ?, 0)", inserts)
    connection.executemany(
        f'UPDATE {table} SET {assignments}, client = ?, load_id = ?, source_line = ?, row_sha256 = ?, placeholder = 0 WHERE "{entity.key}" = ?', updates)
    connection.executemany("INSERT INTO load_rows VALUES (?, ?, ?)", outcomes)
    connection.executemany("INSERT INTO rejected_rows VALUES (?, ?, 'load', ?)", [(load_id, line, reason) for line, reason in refused])
    return refused


def _earlier_load(connection, entity: Entity, load_id: str) -> LoadResult:
    """Describe a committed load from what it stored, for a run that offers the same file again."""
    conflicts = [
        {"line": line, "reason": reason}
        for line, reason in connection.execute("SELECT source_line, reason FROM rejected_rows WHERE load_id = ? AND stage = 'load'", (load_id,))
    ]
    loaded = connection.execute("SELECT COUNT(*) FROM load_rows WHERE load_id = ?", (load_id,)).fetchone()[0]
    return LoadResult(
        load_id=load_id, entity=entity.name, rows_offered=loaded + len(conflicts), rows_inserted=0,
        rows_existing=loaded, rows_updated=0, rows_conflicting=len(conflicts),
        placeholders=0, conflicts=conflicts, already_loaded=True,
    )


class LoadVerificationError(RuntimeError):
    """The rows written do not add up to the rows offered; the load was rolled back."""


def _amount_columns(entity: Entity) -> tuple[str | None, str | None]:
    amount = entity.amount_field or ("balance" if "balance" in entity.fields else None)
    currency = "currency" if "currency" in entity.fields else None
    return amount, currency


def _loaded_totals(connection, entity: Entity, load_id: str) -> dict[str, Decimal]:
    """Per-currency totals of the rows this load wrote or found, read back from the tables.

    The rows are summed as the cursor yields them, so a load of a million rows is not held in memory.
    """
    amount, currency = _amount_columns(entity)
    if not amount:
        return {}
    key = entity.key
    select_currency = f't."{currency}"' if currency else "NULL"
    totals: dict[str, Decimal] = defaultdict(Decimal)
    cursor = connection.execute(
        f'SELECT t."{amount}", {select_currency} FROM {TABLES[entity.name]} t JOIN load_rows l ON l.row_key = t."{key}" WHERE l.load_id = ?',
        (load_id,),
    )
    for value, ccy in cursor:
        if _missing(value):
            continue
        totals["(none)" if _missing(ccy) else str(ccy)] += Decimal(str(value))
    return dict(totals)


class Reconciliation(BaseModel):
    passed: bool
    rows_in: int
    rows_loaded: int
    rows_rejected: int
    checks: list[dict] = Field(default_factory=list)
    totals_expected: dict[str, str] = Field(default_factory=dict)
    totals_loaded: dict[str, str] = Field(default_factory=dict)
    totals_rejected: dict[str, str] = Field(default_factory=dict)


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and value != value) or value == ""


def _totals(rows: pd.DataFrame, amount: str, currency: str | None) -> dict[str, Decimal]:
    """Sum of `amount` per currency with Decimal; rows without a currency sum under "(none)"."""
    totals: dict[str, Decimal] = defaultdict(Decimal)
    if amount not in rows.columns:
        return {}
    amounts = rows[amount].tolist()
    currencies = rows[currency].tolist() if currency and currency in rows.columns else [None] * len(amounts)
    for value, ccy in zip(amounts, currencies):
        if _missing(value):
            continue
        totals["(none)" if _missing(ccy) else str(ccy)] += Decimal(str(value))
    return dict(totals)


def reconcile(path: Path, entity: Entity, load: LoadResult, valid: pd.DataFrame | Iterable[pd.DataFrame], rows_in: int, rows_rejected_before_load: int, rejected_rows: pd.DataFrame | None = None) -> Reconciliation:
    """Check that the load lost nothing, reading the database back rather than trusting the loader."""
    schema = load_schema()
    table = TABLES[entity.name]
    amount, currency = _amount_columns(entity)
    checks: list[dict] = []
    with connect(path) as connection:
        loaded = connection.execute("SELECT COUNT(*) FROM load_rows WHERE load_id = ?", (load.load_id,)).fetchone()[0]
        rejected_db = connection.execute("SELECT COUNT(*) FROM rejected_rows WHERE load_id = ?", (load.load_id,)).fetchone()[0]
        key = entity.key
        loaded_totals = _loaded_totals(connection, entity, load.load_id)
        missing_required = {}
        for name in entity.required:
            count = connection.execute(
                f'SELECT COUNT(*) FROM {table} t JOIN load_rows l ON l.row_key = t."{key}" WHERE l.load_id = ? AND t."{name}" IS NULL',
                (load.load_id,),
            ).fetchone()[0]
            if count:
                missing_required[name] = count
        orphans = {}
        for column, parent in entity.references.items():
            parent_key = schema.entity(parent).key
            count = connection.execute(
                f'SELECT COUNT(*) FROM {table} t LEFT JOIN {TABLES[parent]} p ON p."{parent_key}" = t."{column}" '
                f'WHERE t."{column}" IS NOT NULL AND p."{parent_key}" IS NULL',
            ).fetchone()[0]
            if count:
                orphans[column] = count

    checks.append({
        "check": "row count",
        "passed": rows_in == loaded + rejected_db,
        "detail": f"{rows_in} source rows = {loaded} loaded + {rejected_db} rejected",
    })
    checks.append({
        "check": "rejected before load recorded",
        "passed": rejected_db == rows_rejected_before_load + load.rows_conflicting,
        "detail": f"{rejected_db} rejected rows stored, {rows_rejected_before_load} from reading and validation + {load.rows_conflicting} conflicts",
    })
    expected_totals: dict[str, Decimal] = {}
    rejected_totals: dict[str, Decimal] = {}
    if amount:
        conflict_lines = {c["line"] for c in load.conflicts}
        sums: dict[str, Decimal] = defaultdict(Decimal)
        for frame in ([valid] if isinstance(valid, pd.DataFrame) else valid):
            offered = frame[~frame["_line"].isin(conflict_lines)] if "_line" in frame.columns else frame
            for ccy, total in _totals(offered, amount, currency).items():
                sums[ccy] += total
        expected_totals = dict(sums)
        if rejected_rows is not None and len(rejected_rows):
            rejected_totals = _totals(rejected_rows, amount, currency)
        checks.append({
            "check": f"control totals of {amount} per currency",
            "passed": expected_totals == loaded_totals,
            "detail": "; ".join(f"{c}: converted {expected_totals.get(c, 0)} / in database {loaded_totals.get(c, 0)}" for c in sorted(set(expected_totals) | set(loaded_totals))) or "no amounts",
        })
    checks.append({"check": "required fields present", "passed": not missing_required, "detail": json.dumps(missing_required) if missing_required else "all present"})
    checks.append({"check": "no orphan references", "passed": not orphans, "detail": json.dumps(orphans) if orphans else "none"})
    return Reconciliation(
        passed=all(c["passed"] for c in checks),
        rows_in=rows_in,
        rows_loaded=loaded,
        rows_rejected=rejected_db,
        checks=checks,
        totals_expected={k: str(v) for k, v in expected_totals.items()},
        totals_loaded={k: str(v) for k, v in loaded_totals.items()},
        totals_rejected={k: str(v) for k, v in rejected_totals.items()},
    )
