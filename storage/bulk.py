"""Bulk loading: many clippings in large batches, for an initial load, an
import of an archive or a benchmark.

Each batch is inserted exactly as `storage.clippings.insert_many` inserts a
crawl's batch (conflicts skipped, topic rows written, the full-text index
kept in step by the database) and committed on its own, so an interrupted
load keeps the batches before the interruption.  What differs is the
connection's tuning while the load runs:

* SQLite: ``synchronous = OFF`` (a committed batch may be lost on power
  loss, never corrupted: the WAL still guards the file) and a page cache of
  `SQLITE_CACHE_KIB`, so the many indexes of ``clippings`` are updated in
  memory rather than re-read; both are restored afterwards;
* PostgreSQL: ``synchronous_commit = off`` for the session (a crash may lose
  the last batches, never corrupt), restored afterwards.

After the load the planner's statistics are refreshed (``ANALYZE``; on
SQLite sampled, `SQLITE_ANALYSIS_LIMIT` rows per index), as after any bulk
load: the queries of `storage.review` and `storage.search` are written to
be fast without statistics, but a planner that knows the table's shape
chooses better among indexes elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import Connection

from scraper.items import Clipping
from storage.clippings import insert_many
from storage.engine import chunked

#: Clippings per transaction.
BATCH_SIZE = 5000

#: SQLite page cache while loading, in KiB.
SQLITE_CACHE_KIB = 512 * 1024

#: Rows SQLite's ANALYZE samples per index after a load.
SQLITE_ANALYSIS_LIMIT = 1000


@contextmanager
def _tuned(conn: Connection) -> Iterator[None]:
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET synchronous_commit = off")
        conn.commit()
        try:
            yield
        finally:
            conn.rollback()
            conn.exec_driver_sql("RESET synchronous_commit")
            conn.commit()
        return
    # PRAGMAs go to the DB-API connection, which is in autocommit mode (see
    # storage.engine), so that no transaction is open around them.
    raw = conn.connection.driver_connection
    assert raw is not None
    saved = {
        name: raw.execute(f"PRAGMA {name}").fetchone()[0] for name in ("synchronous", "cache_size")
    }
    raw.execute("PRAGMA synchronous = OFF")
    raw.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
    try:
        yield
    finally:
        conn.rollback()
        for name, value in saved.items():
            raw.execute(f"PRAGMA {name} = {int(value)}")


def load(
    conn: Connection,
    items: Iterable[Clipping],
    now: Callable[[], datetime],
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Insert ``items`` on ``conn`` (a writer's connection, no transaction
    open), ``batch_size`` per committed transaction, each batch stamped
    ``now()``; ``progress`` gets the running count read so far after each
    batch.  Returns how many were inserted."""
    inserted = read = 0
    with _tuned(conn):
        for batch in chunked(items, batch_size):
            with conn.begin():
                inserted += insert_many(conn, batch, now())
            read += len(batch)
            if progress is not None:
                progress(read)
    _analyze(conn)
    return inserted


def _analyze(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        with conn.begin():
            conn.exec_driver_sql("ANALYZE")
        return
    raw = conn.connection.driver_connection
    assert raw is not None
    raw.execute(f"PRAGMA analysis_limit = {SQLITE_ANALYSIS_LIMIT}")
    raw.execute("ANALYZE")
