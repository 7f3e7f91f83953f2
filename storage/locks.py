"""The round lock: at most one scheduled crawl round per database at a time.

``presscut run`` (and ``presscut run --once`` from cron) take it around each
round, so a round that outlives its scheduler, a slow round overlapping the
next cron start, or a second scheduler started by mistake never crawl the
same sources twice at once.  The lock belongs to the holding process and
goes with it, however it ends (SIGKILL included):

* PostgreSQL: a session advisory lock on a connection held for the round,
  keyed by `ROUND_LOCK_KEY` and the current schema (advisory locks are per
  database; presscut's tables are per schema, so two presscut databases in
  two schemas of one PostgreSQL database do not block each other);
* SQLite: an exclusive ``flock`` on ``<database file>.round-lock`` beside the
  database file, its path resolved first, so that a symlink to the same
  file takes the same lock (a local file system, as SQLite itself needs).
  An in-memory database has one process by definition and always gets the
  lock.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import BigInteger, ColumnElement, Engine, func, literal, select

#: PostgreSQL advisory lock key of the round lock (any constant unique to presscut).
ROUND_LOCK_KEY = 0x70726F756E64

try:
    import fcntl
except ImportError:  # not a POSIX system: no SQLite round lock
    fcntl = None  # type: ignore[assignment]


@contextlib.contextmanager
def round_lock(engine: Engine) -> Iterator[bool]:
    """Try to take the round lock without waiting; yields whether it was
    taken, and releases it on exit."""
    if engine.dialect.name == "postgresql":
        with _advisory_lock(engine) as held:
            yield held
    else:
        with _file_lock(engine) as held:
            yield held


def _advisory_key() -> ColumnElement[int]:
    schema_hash = func.hashtext(func.current_schema()).cast(BigInteger)
    return literal(ROUND_LOCK_KEY, BigInteger).op("#")(schema_hash)


@contextlib.contextmanager
def _advisory_lock(engine: Engine) -> Iterator[bool]:
    with engine.connect() as conn:
        held = bool(conn.execute(select(func.pg_try_advisory_lock(_advisory_key()))).scalar())
        # A session lock outlives the transaction; ending it keeps the
        # connection from idling in a transaction for the whole round.
        conn.commit()
        try:
            yield held
        finally:
            if held:
                conn.execute(select(func.pg_advisory_unlock(_advisory_key())))
                conn.commit()


@contextlib.contextmanager
def _file_lock(engine: Engine) -> Iterator[bool]:
    database = engine.url.database or ""
    if fcntl is None or not database or database == ":memory:" or database.startswith("file:"):
        yield True
        return
    # Keyed on the file itself: a symlink or another spelling of the path
    # to the same database takes the same lock.
    resolved = Path(database).resolve()
    path = resolved.with_name(resolved.name + ".round-lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)  # closing the file releases the lock
