"""The seen-entry log: what became of every feed entry a source offered.

The spider asks `known` before it requests any article, so an entry whose
fate is settled (stored, duplicate, off-topic, invalid, blocked, ...) costs
no request again.  Outcomes in `RETRY_OUTCOMES` are logged but not settled:
the entry is fetched again in a later round.

Functions here take an open `Connection`; `storage.Store` owns transactions.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select, union

from scraper.items import RETRY_OUTCOMES
from scraper.text import clean_optional
from storage.engine import chunked, dialect_insert
from storage.models import clippings, entries


@dataclass(frozen=True, kw_only=True, slots=True)
class EntryOutcome:
    """What became of one feed entry.

    ``entry_key`` is unique per source (see ``Clipping.entry_key``);
    ``url_hash`` is the canonical URL's hash when known; ``outcome`` is a
    short code (see `scraper.items.OUTCOMES`), ``reason`` a human-readable detail;
    ``seen_at`` (aware) defaults to the time of the write.
    """

    source_id: str
    entry_key: str
    outcome: str
    url_hash: str | None = None
    reason: str | None = None
    seen_at: datetime | None = None


def upsert(conn: Connection, outcomes: Sequence[EntryOutcome], now: datetime) -> None:
    """Record ``outcomes`` in one executemany statement.

    A later outcome for the same ``(source_id, entry_key)`` replaces an
    earlier one, except that ``stored`` is never replaced: the clipping
    exists.  A missing ``url_hash`` keeps the one already logged."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for item in outcomes:
        rows[(item.source_id, item.entry_key)] = {
            "source_id": item.source_id,
            "entry_key": item.entry_key,
            "url_hash": item.url_hash,
            "outcome": item.outcome,
            "reason": clean_optional(item.reason),
            "seen_at": item.seen_at or now,
        }
    if not rows:
        return
    stmt = dialect_insert(conn, entries)
    stmt = stmt.on_conflict_do_update(
        index_elements=[entries.c.source_id, entries.c.entry_key],
        set_={
            "url_hash": func.coalesce(stmt.excluded.url_hash, entries.c.url_hash),
            "outcome": stmt.excluded.outcome,
            "reason": stmt.excluded.reason,
            "seen_at": stmt.excluded.seen_at,
        },
        where=entries.c.outcome != "stored",
    )
    conn.execute(stmt, list(rows.values()))


def known(
    conn: Connection, source_id: str, keys: Iterable[str], url_hashes: Iterable[str]
) -> tuple[set[str], set[str]]:
    """``(entry keys of source_id, url hashes of any source)`` already
    settled, in the seen-entry log or as stored clippings.  One query for the
    keys and one for the hashes (more only past `storage.engine.IN_CHUNK`)."""
    settled = entries.c.outcome.not_in(sorted(RETRY_OUTCOMES))
    known_keys: set[str] = set()
    for chunk in chunked(dict.fromkeys(keys)):
        stmt = union(
            select(entries.c.entry_key).where(
                entries.c.source_id == source_id, entries.c.entry_key.in_(chunk), settled
            ),
            select(clippings.c.entry_key).where(
                clippings.c.source_id == source_id, clippings.c.entry_key.in_(chunk)
            ),
        )
        known_keys.update(conn.scalars(stmt))
    known_hashes: set[str] = set()
    for chunk in chunked(dict.fromkeys(url_hashes)):
        stmt = union(
            select(entries.c.url_hash).where(entries.c.url_hash.in_(chunk), settled),
            select(clippings.c.url_hash).where(clippings.c.url_hash.in_(chunk)),
        )
        known_hashes.update(conn.scalars(stmt))
    return known_keys, known_hashes
