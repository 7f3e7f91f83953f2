"""How much room the database takes: bytes per table, its indexes included.

* SQLite: the WAL is checkpointed into the file first (so the file holds
  everything), then the file's pages are counted by the ``dbstat`` table:
  each table's pages with those of its indexes; FTS5's shadow tables count
  under their FTS table (``clippings_fts``); free pages under ``(free)``.
  The total is the file size, WAL included (empty after the checkpoint).
* PostgreSQL: ``pg_total_relation_size`` of each table of the current
  schema: its heap, TOAST and indexes (the full-text GIN index counts under
  ``clippings``).

Functions here take an open `Connection`; `storage.Store` owns transactions.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from sqlalchemy import Connection, text

#: Where SQLite's unused pages are counted.
FREE = "(free)"


@dataclass(frozen=True, slots=True)
class Footprint:
    """``total`` bytes of the database and ``tables``: name -> bytes."""

    total: int
    tables: dict[str, int]


def measure(conn: Connection) -> Footprint:
    """The database's footprint; on SQLite ``conn`` must have no transaction
    open (the checkpoint needs none)."""
    if conn.dialect.name == "postgresql":
        return _postgresql(conn)
    return _sqlite(conn)


def _postgresql(conn: Connection) -> Footprint:
    rows = conn.execute(
        text(
            "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class AS c "
            "WHERE c.relkind IN ('r', 'p') AND c.relnamespace = current_schema()::regnamespace"
        )
    ).all()
    tables = {str(name): int(size) for name, size in rows}
    return Footprint(total=sum(tables.values()), tables=tables)


def _sqlite(conn: Connection) -> Footprint:
    raw = conn.connection.driver_connection
    assert raw is not None
    raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    owner = dict(raw.execute("SELECT name, tbl_name FROM sqlite_master").fetchall())
    shadow = {
        name: fts
        for fts, sql in raw.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'")
        if sql and sql.upper().startswith("CREATE VIRTUAL TABLE")
        for name in owner
        if name.startswith(f"{fts}_")
    }
    tables: dict[str, int] = {}
    for name, size in raw.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name"):
        table = owner.get(name, name)
        table = shadow.get(table, table)
        tables[table] = tables.get(table, 0) + int(size)
    page_size = raw.execute("PRAGMA page_size").fetchone()[0]
    free = raw.execute("PRAGMA freelist_count").fetchone()[0] * page_size
    if free:
        tables[FREE] = free
    path = raw.execute("PRAGMA database_list").fetchone()[2]
    total = sum(os.path.getsize(p) for p in (path, f"{path}-wal") if path and os.path.exists(p))
    return Footprint(total=total or sum(tables.values()), tables=tables)
