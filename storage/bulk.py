"""Bulk loading: many clippings in large batches, for an initial load, an
import of an archive or a benchmark.

Each batch is committed on its own, so an interrupted load keeps the
batches before the interruption, and a clipping whose ``url_hash`` or
``(source_id, entry_key)`` is taken is skipped, as a crawl's batch skips it.
What differs from a crawl's write:

* the connection is tuned for loading: SQLite ``synchronous = OFF`` and a
  page cache of `SQLITE_CACHE_KIB` (a committed batch may be lost on power
  loss, never corrupted: the WAL still guards the file); PostgreSQL
  ``synchronous_commit = off``, `POSTGRES_MAINTENANCE_MEM` for the index
  builds and values too large for a page compressed with LZ4 rather than
  the default pglz (`POSTGRES_COMPRESSION`: several times faster to write
  and to read back, the stored ``tsvector`` above all, for a little more
  space).  All are restored afterwards;
* when ``clippings`` is empty as the load starts, the indexes that no
  constraint needs, and on SQLite the trigger that fills the full-text index
  row by row, are dropped for the load and built once at its end (an index
  built from sorted rows is written once, not page by page at random; the
  FTS5 index is rebuilt from the table, gathering `SQLITE_FTS_HASH_BYTES`
  of terms in memory between writes where a crawl's writes gather 1 MB, so
  that far fewer segments are written and merged).  They are built again whatever
  ends the load, so the schema is whole afterwards.  On a table that holds
  rows already they stay and are kept in step row by row: rebuilding them
  would cost more than the load;
* on PostgreSQL the rows go in by ``COPY`` (ids drawn from the table's
  sequence beforehand, so the topic rows are known without reading back);
  a batch that meets a taken ``url_hash`` or entry is rolled back to its
  savepoint and inserted as a crawl's batch is, conflicts skipped.  The
  stored ``tsvector`` column is computed by the server as each row enters.

After the load the planner's statistics are refreshed (``ANALYZE``; on
SQLite sampled, `SQLITE_ANALYSIS_LIMIT` rows per index).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import psycopg
from sqlalchemy import Connection, text

from scraper.items import Clipping
from storage.clippings import insert_many, to_row, topic_row
from storage.engine import chunked
from storage.models import clipping_topics, clippings

#: Clippings per transaction.
BATCH_SIZE = 5000

#: SQLite page cache while loading, in KiB.
SQLITE_CACHE_KIB = 512 * 1024

#: PostgreSQL memory for each index build after a load: the GIN index of a
#: million clippings gathers its entries in this before writing them (each
#: write of a part merges into what is written), so more memory means fewer
#: merges.
POSTGRES_MAINTENANCE_MEM = "2GB"

#: PostgreSQL compression of the large values a load writes.
POSTGRES_COMPRESSION = "lz4"

#: FTS5 ``hashsize`` while the full-text index is rebuilt after a load, and
#: FTS5's own default, restored afterwards (a crawl's small writes need no
#: more).
SQLITE_FTS_HASH_BYTES = 256 * 1024 * 1024
SQLITE_FTS_DEFAULT_HASH_BYTES = 1024 * 1024

#: Rows SQLite's ANALYZE samples per index after a load.
SQLITE_ANALYSIS_LIMIT = 1000

#: The DDL of what a load on an empty table defers: the indexes no
#: constraint needs and the FTS5 insert trigger.
_DEFERRED = {
    "sqlite": """
        SELECT type, name, sql FROM sqlite_master
        WHERE tbl_name IN ('clippings', 'clipping_topics') AND sql IS NOT NULL
          AND (type = 'index' OR (type = 'trigger' AND name = 'clippings_fts_insert'))
    """,
    "postgresql": """
        SELECT 'index', i.indexname, i.indexdef FROM pg_indexes AS i
        WHERE i.schemaname = current_schema()
          AND i.tablename IN ('clippings', 'clipping_topics')
          AND NOT EXISTS (
              SELECT 1 FROM pg_constraint AS c
              WHERE c.conindid = format('%I.%I', i.schemaname, i.indexname)::regclass
          )
    """,
}


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
    insert = _copy_many if conn.dialect.name == "postgresql" else insert_many
    inserted = read = 0
    with _tuned(conn), _indexes_deferred(conn):
        for batch in chunked(items, batch_size):
            with conn.begin():
                inserted += insert(conn, batch, now())
            read += len(batch)
            if progress is not None:
                progress(read)
    _analyze(conn)
    return inserted


@contextmanager
def _tuned(conn: Connection) -> Iterator[None]:
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET synchronous_commit = off")
        conn.exec_driver_sql(f"SET maintenance_work_mem = '{POSTGRES_MAINTENANCE_MEM}'")
        conn.exec_driver_sql(f"SET default_toast_compression = '{POSTGRES_COMPRESSION}'")
        conn.commit()
        try:
            yield
        finally:
            conn.rollback()
            for name in (
                "synchronous_commit",
                "maintenance_work_mem",
                "default_toast_compression",
            ):
                conn.exec_driver_sql(f"RESET {name}")
            conn.commit()
        return
    # PRAGMAs go to the DB-API connection, which is in autocommit mode (see
    # storage.engine), so that no transaction is open around them.
    raw = _sqlite(conn)
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


@contextmanager
def _indexes_deferred(conn: Connection) -> Iterator[None]:
    """Drop what `_DEFERRED` names while the block runs, when ``clippings``
    is empty; build it again afterwards, however the block ends."""
    with conn.begin():
        empty = conn.execute(text("SELECT 1 FROM clippings LIMIT 1")).first() is None
        deferred = conn.execute(text(_DEFERRED[conn.dialect.name])).all() if empty else []
        for kind, name, _ in deferred:
            conn.exec_driver_sql(f'DROP {kind.upper()} "{name}"')
    try:
        yield
    finally:
        conn.rollback()
        with conn.begin():
            for _, _, ddl in deferred:
                conn.exec_driver_sql(ddl)
            if deferred and conn.dialect.name == "sqlite":
                _fts_hash_size(conn, SQLITE_FTS_HASH_BYTES)
                conn.exec_driver_sql("INSERT INTO clippings_fts(clippings_fts) VALUES ('rebuild')")
                _fts_hash_size(conn, SQLITE_FTS_DEFAULT_HASH_BYTES)


def _fts_hash_size(conn: Connection, size: int) -> None:
    # An FTS5 setting: kept in clippings_fts_config, read by every connection.
    conn.exec_driver_sql(
        f"INSERT INTO clippings_fts(clippings_fts, rank) VALUES ('hashsize', {int(size)})"
    )


def _copy_many(conn: Connection, items: Sequence[Clipping], now: datetime) -> int:
    """`insert_many` by ``COPY`` (PostgreSQL): all of ``items`` or, when
    one of them is taken, `insert_many` of the batch."""
    rows = [to_row(item, now) for item in items]
    if not rows:
        return 0
    ids = conn.execute(
        text(
            "SELECT nextval(pg_get_serial_sequence('clippings', 'id')) FROM generate_series(1, :n)"
        ),
        {"n": len(rows)},
    ).scalars()
    topic_rows = []
    for row, clipping_id in zip(rows, ids, strict=True):
        row["id"] = clipping_id
        topic_rows += [
            topic_row(clipping_id, t, row["status"], row["source_id"], now)
            for t in dict.fromkeys(row["topics"])
        ]
    try:
        with conn.begin_nested():
            _copy(conn, clippings.name, [c for c in clippings.c if c.name in rows[0]], rows)
            _copy(conn, clipping_topics.name, list(clipping_topics.c), topic_rows)
    except psycopg.IntegrityError:  # a taken url_hash or entry
        return insert_many(conn, items, now)
    return len(rows)


def _copy(conn: Connection, table: str, columns: list[Any], rows: list[dict[str, Any]]) -> None:
    dialect = conn.dialect
    # The columns' own bind conversions (signed SimHash, JSON, UTC times).
    convert = [(c.name, c.type._cached_bind_processor(dialect)) for c in columns]
    names = ", ".join(f'"{c.name}"' for c in columns)
    raw = conn.connection.driver_connection
    assert raw is not None
    with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([f(row[n]) if f else row[n] for n, f in convert])


def _analyze(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        with conn.begin():
            conn.exec_driver_sql("ANALYZE")
        return
    raw = _sqlite(conn)
    raw.execute(f"PRAGMA analysis_limit = {SQLITE_ANALYSIS_LIMIT}")
    raw.execute("ANALYZE")


def _sqlite(conn: Connection) -> Any:
    raw = conn.connection.driver_connection
    assert raw is not None
    return raw
