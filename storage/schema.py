"""Whether a database holds presscut's schema, and whether it is sound.

Functions here take an open `Connection`; `storage.Store` owns transactions.
"""

from __future__ import annotations

from sqlalchemy import Connection, inspect, text

#: The table Alembic keeps the schema revision in; a database without it
#: was never migrated by presscut.
VERSION_TABLE = "alembic_version"

#: At most this many problems are read from SQLite's integrity check.
MAX_PROBLEMS = 5


def has_schema(conn: Connection) -> bool:
    """Whether presscut's migrations ever ran on this database."""
    return inspect(conn).has_table(VERSION_TABLE)


def integrity_problems(conn: Connection) -> list[str]:
    """What SQLite's ``PRAGMA quick_check`` finds wrong with the file (an
    empty list when it is sound, and always on PostgreSQL, which checks
    its own pages)."""
    if conn.dialect.name != "sqlite":
        return []
    rows = conn.execute(text(f"PRAGMA quick_check({MAX_PROBLEMS})")).scalars().all()
    if rows == ["ok"]:
        return []
    # A row may hold several lines under a "*** in database main ***" header.
    lines = (line.strip() for row in rows for line in str(row).splitlines())
    return [line for line in lines if line and not line.startswith("***")][:MAX_PROBLEMS]
