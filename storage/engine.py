"""The database engine: one SQLAlchemy `Engine` per store, tuned per dialect.

* SQLite (``sqlite:///relative/path.db`` or ``sqlite:////absolute/path.db``):
  the parent folder is created; every new connection gets WAL journaling,
  ``synchronous=NORMAL``, a busy timeout and foreign keys, set by a connect
  listener.  Transactions are begun by SQLAlchemy rather than by the
  ``sqlite3`` module, so that a transaction covers its reads and its DDL too;
  a writer (see `WRITE`) begins with ``BEGIN IMMEDIATE`` and so waits its turn
  for the write lock instead of failing on a lock upgrade.
* PostgreSQL (``postgresql+psycopg://``; a bare ``postgresql://`` is taken to
  mean psycopg 3, the driver presscut ships with): pooled connections, each
  checked before use.

Nothing here connects until a statement runs; nothing happens at import time.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, Table, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, make_url

#: The database of a fresh install.  Here relative to the working directory;
#: the configuration (`config.loader`) makes a relative path absolute
#: against the config folder before a store is opened.
DEFAULT_URL = "sqlite:///data/presscut.db"

#: How long (milliseconds) an SQLite connection waits for a lock before it
#: gives up: a crawl's batch writes and a curator's edits take turns.
SQLITE_BUSY_TIMEOUT_MS = 10_000

#: Execution options of a writing transaction (``engine.execution_options(**WRITE)``).
WRITE = {"presscut_write": True}

#: Most values bound in one ``IN (...)`` list: far below SQLite's 32766 and
#: PostgreSQL's 65535 parameters per statement.
IN_CHUNK = 5000

_T = TypeVar("_T")


def make_engine(url: str | URL = DEFAULT_URL) -> Engine:
    """An engine for ``url``; `ValueError` for a database other than SQLite
    or PostgreSQL."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(parsed)
    if backend == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        return create_engine(parsed, pool_pre_ping=True)
    raise ValueError(
        f"unsupported database URL {parsed.render_as_string()!r}: "
        "use sqlite:///path or postgresql+psycopg://user@host/db"
    )


def _sqlite_engine(url: URL) -> Engine:
    database = url.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)
    event.listen(engine, "connect", _sqlite_connect)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Hand BEGIN over to `_sqlite_begin`; the module's own control skips it
    # before SELECT and DDL, which would leave those outside the transaction.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        # busy_timeout first: switching to WAL needs a lock another process may hold.
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        # NORMAL is durable in WAL mode except for the last commits on power loss.
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    if connection.get_execution_options().get("presscut_write"):
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        connection.exec_driver_sql("BEGIN")


def dialect_insert(connection: Connection, table: Table) -> Any:
    """``INSERT`` for ``table`` in the connection's dialect, which offers
    ``on_conflict_do_nothing`` / ``on_conflict_do_update``."""
    if connection.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def chunked(values: Iterable[_T], size: int = IN_CHUNK) -> Iterator[list[_T]]:
    """``values`` in lists of at most ``size``, for bounded ``IN`` lists."""
    chunk: list[_T] = []
    for value in values:
        chunk.append(value)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
