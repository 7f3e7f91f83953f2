"""A batch of a crawl or an import: clippings, seen-entry outcomes and fetch
state, written in one transaction, where one bad row never sinks the rest.

The clippings go in as one statement inside a savepoint.  When the database
refuses that statement for a value in it (a row that no cleaning foresaw),
the batch falls back to one savepoint per clipping: every good row is
written, and each refused one is reported with its cause and logged in the
seen-entry log as ``failed`` (so its entry is fetched again later, as after
any failed article) instead of ``stored``.  A failure of the database itself
(`sqlalchemy.exc.OperationalError`: gone, locked, full) is raised and
nothing of the batch is written.

Functions here take an open `Connection`; `storage.Store` owns transactions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection
from sqlalchemy.exc import OperationalError, StatementError

from scraper.items import Clipping
from storage import clippings, entries, sources
from storage.entries import EntryOutcome
from storage.sources import FetchStateUpdate


@dataclass
class BatchResult:
    """What a batch wrote: ``inserted`` clippings (those already stored are
    skipped, not counted) and the ``rejected`` ones, each with the cause."""

    inserted: int = 0
    rejected: list[tuple[Clipping, str]] = field(default_factory=list)


def write(
    conn: Connection,
    items: Sequence[Clipping],
    outcomes: Sequence[EntryOutcome],
    states: Sequence[FetchStateUpdate],
    now: datetime,
) -> BatchResult:
    """Write a batch on ``conn`` (inside its transaction), as the module
    docstring says."""
    result = BatchResult()
    try:
        with conn.begin_nested():
            result.inserted = clippings.insert_many(conn, items, now)
    except OperationalError:
        raise
    except (StatementError, ValueError):
        result.inserted, result.rejected = clippings.insert_each(conn, items, now)
    entries.upsert(conn, [*outcomes, *_failed_outcomes(result.rejected, now)], now)
    sources.apply_updates(conn, states, now)
    return result


def _failed_outcomes(rejected: list[tuple[Clipping, str]], now: datetime) -> list[EntryOutcome]:
    # Later outcomes win in entries.upsert: these replace the "stored" the
    # caller logged for the same entries.
    return [
        EntryOutcome(
            source_id=item.source_id or "",
            entry_key=item.entry_key or item.url_hash or item.url,
            url_hash=item.url_hash,
            outcome="failed",
            reason=f"not stored: {cause}",
            seen_at=now,
        )
        for item, cause in rejected
        if item.source_id
    ]


def without_rejected(items: Sequence[Clipping], result: BatchResult) -> list[Clipping]:
    """Those of ``items`` the batch did not reject."""
    refused = {id(item) for item, _ in result.rejected}
    return [item for item in items if id(item) not in refused]
