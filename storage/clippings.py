"""Clippings in the database: conversion to and from rows, and their queries.

Every `Clipping` field has a column of the same name (a test checks it), so
a new field fails loudly until it is migrated.  Lists are JSON; datetimes
come back as aware UTC (the offset of ``published_at`` is not kept:
``published_raw`` has it); ``simhash`` is the unsigned int it went in as.

Every text value is passed through `scraper.text.clean_text` on its way
in: the last guard, whatever the caller cleaned before.

Functions here take an open `Connection`; `storage.Store` owns transactions.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, func, insert, or_, select, update
from sqlalchemy.exc import OperationalError, StatementError

from scraper.items import STATUSES, Clipping
from scraper.text import clean_list, clean_text
from storage.engine import chunked, dialect_insert
from storage.models import clipping_topics, clippings, simhash_bands

#: The `Clipping` fields, each a column of ``clippings``.
FIELDS = tuple(f.name for f in dataclasses.fields(Clipping))

#: Rows fetched per round trip while streaming.
STREAM_BATCH = 500

#: Most near-duplicate candidates returned for one hash; a band shared by
#: that many clippings is noise (boilerplate bodies), not a lead.
CANDIDATE_LIMIT = 1000


def to_row(clipping: Clipping, now: datetime) -> dict[str, Any]:
    """The column values of ``clipping``; `ValueError` when it breaks a
    storage invariant (no ``url_hash``, unknown ``status``).  A clipping
    without ``cluster`` founds its own: cluster = its ``url_hash``."""
    if not clipping.url_hash:
        raise ValueError(f"clipping without url_hash: {clipping.url}")
    if clipping.status not in STATUSES:
        raise ValueError(f"clipping status {clipping.status!r} is not one of {STATUSES}")
    row = {name: clean_value(getattr(clipping, name)) for name in FIELDS}
    row["cluster"] = clipping.cluster or clipping.url_hash
    bands = simhash_bands(clipping.simhash) if clipping.simhash is not None else (None,) * 4
    for i, band in enumerate(bands):
        row[f"sim_b{i}"] = band
    row["created_at"] = row["updated_at"] = now
    return row


def clean_value(value: Any) -> Any:
    """A column value as stored: text cleaned (`scraper.text.clean_text`),
    each string of a list too, anything else as it is."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, list | tuple):  # authors, topics, matched_terms
        return clean_list(value)
    return value


def from_row(row: Row[Any]) -> Clipping:
    """The `Clipping` a ``clippings`` row holds."""
    values = row._mapping
    return Clipping(**{name: values[name] for name in FIELDS})


def insert_many(conn: Connection, items: Sequence[Clipping], now: datetime) -> int:
    """Insert ``items``, skipping any whose ``url_hash`` or ``(source_id,
    entry_key)`` is already taken (in the table or earlier in ``items``),
    with their ``clipping_topics`` rows.  Returns how many were inserted.
    One statement: a row the database refuses fails them all (see
    `insert_each`)."""
    rows = [to_row(item, now) for item in items]
    if not rows:
        return 0
    return _insert_rows(conn, rows, now)


def insert_each(
    conn: Connection, items: Sequence[Clipping], now: datetime
) -> tuple[int, list[tuple[Clipping, str]]]:
    """Insert ``items`` as `insert_many` does, each in its own savepoint:
    a row that cannot be stored (a value the database refuses) is left out
    and does not undo the others.  Returns ``(inserted, rejected)``, with
    each rejected clipping and the cause in one line.  `OperationalError`
    (the database itself failing) is raised, not counted as a bad row."""
    inserted = 0
    rejected: list[tuple[Clipping, str]] = []
    for item in items:
        try:
            with conn.begin_nested():
                inserted += _insert_rows(conn, [to_row(item, now)], now)
        except OperationalError:
            raise
        except (StatementError, ValueError) as exc:
            rejected.append((item, row_fault(exc)))
    return inserted, rejected


def row_fault(exc: BaseException) -> str:
    """The cause of a refused row in one line, without the statement and
    its parameters (which can be megabytes long)."""
    cause = getattr(exc, "orig", None) or exc
    first = (str(cause).splitlines() or [""])[0]
    return f"{type(cause).__name__}: {first}"[:500]


def _insert_rows(conn: Connection, rows: list[dict[str, Any]], now: datetime) -> int:
    stmt = (
        dialect_insert(conn, clippings)
        .on_conflict_do_nothing()
        .returning(clippings.c.id, clippings.c.topics, clippings.c.status, clippings.c.source_id)
    )
    # RETURNING names exactly the rows inserted (executemany rowcounts differ
    # by driver), with what their topic rows need.
    inserted = conn.execute(stmt, rows).all()
    topic_rows = [
        topic_row(clipping_id, topic, status, source_id, now)
        for clipping_id, topics, status, source_id in inserted
        for topic in dict.fromkeys(topics)
    ]
    if topic_rows:
        conn.execute(insert(clipping_topics), topic_rows)
    return len(inserted)


def topic_row(
    clipping_id: int, topic: str, status: str, source_id: str | None, created_at: datetime
) -> dict[str, Any]:
    """The ``clipping_topics`` row of one of a clipping's topics: the
    clipping's status, source and creation time beside the topic."""
    return {
        "clipping_id": clipping_id,
        "topic": topic,
        "status": status,
        "source_id": source_id,
        "created_at": created_at,
    }


def copy_status_to_topics(conn: Connection, ids: Iterable[int]) -> None:
    """Set the ``status`` of the ``clipping_topics`` rows of ``ids`` to
    their clipping's; every status change calls this in its transaction."""
    current = (
        select(clippings.c.status)
        .where(clippings.c.id == clipping_topics.c.clipping_id)
        .scalar_subquery()
    )
    for chunk in chunked(dict.fromkeys(ids)):
        # Only rows that differ: an unchanged row rewritten is a dead tuple
        # on PostgreSQL.
        conn.execute(
            update(clipping_topics)
            .where(clipping_topics.c.clipping_id.in_(chunk), clipping_topics.c.status != current)
            .values(status=current)
        )


def existing_url_hashes(conn: Connection, hashes: Iterable[str]) -> set[str]:
    """Those of ``hashes`` that belong to a stored clipping."""
    found: set[str] = set()
    for chunk in chunked(dict.fromkeys(hashes)):
        found.update(
            conn.scalars(select(clippings.c.url_hash).where(clippings.c.url_hash.in_(chunk)))
        )
    return found


def clusters_by_content_hash(
    conn: Connection, hashes: Iterable[str]
) -> dict[str, tuple[str, str | None]]:
    """``content_hash -> (cluster, source_id)`` of the earliest stored
    clipping with that body, for those of ``hashes`` that are stored."""
    found: dict[str, tuple[str, str | None]] = {}
    for chunk in chunked(dict.fromkeys(hashes)):
        stmt = (
            select(clippings.c.content_hash, clippings.c.cluster, clippings.c.source_id)
            .where(clippings.c.content_hash.in_(chunk))
            .order_by(clippings.c.id)
        )
        for content_hash, cluster, source_id in conn.execute(stmt):
            found.setdefault(content_hash, (cluster, source_id))
    return found


def near_duplicate_candidates(
    conn: Connection, simhash: int, limit: int = CANDIDATE_LIMIT
) -> list[tuple[int, str, str | None]]:
    """``(simhash, cluster, source_id)`` of stored clippings sharing at least
    one 16-bit band with ``simhash``, oldest first, at most ``limit``.  Every
    clipping within Hamming distance 3 is among them; the caller measures."""
    bands = simhash_bands(simhash)
    stmt = (
        select(clippings.c.simhash, clippings.c.cluster, clippings.c.source_id)
        .where(or_(*(clippings.c[f"sim_b{i}"] == band for i, band in enumerate(bands))))
        .order_by(clippings.c.id)
        .limit(limit)
    )
    return [(sim, cluster, source_id) for sim, cluster, source_id in conn.execute(stmt)]


def iter_rows(
    conn: Connection, status: str | None, source_id: str | None
) -> Iterator[tuple[int, Clipping]]:
    """``(id, Clipping)`` pairs by id, fetched `STREAM_BATCH` rows at a time."""
    stmt = select(clippings).order_by(clippings.c.id)
    if status is not None:
        stmt = stmt.where(clippings.c.status == status)
    if source_id is not None:
        stmt = stmt.where(clippings.c.source_id == source_id)
    result = conn.execution_options(yield_per=STREAM_BATCH).execute(stmt)
    for row in result:
        yield row.id, from_row(row)


def count(conn: Connection, status: str | None) -> int:
    """Number of clippings, or of those in ``status``."""
    stmt = select(func.count()).select_from(clippings)
    if status is not None:
        stmt = stmt.where(clippings.c.status == status)
    return int(conn.execute(stmt).scalar_one())


def get(conn: Connection, clipping_id: int) -> Clipping | None:
    """The clipping with id ``clipping_id``, if any."""
    row = conn.execute(select(clippings).where(clippings.c.id == clipping_id)).first()
    return from_row(row) if row is not None else None
