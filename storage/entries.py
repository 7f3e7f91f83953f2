"""The seen-entry log: what became of every feed entry a source offered.

The spider asks `known` before it requests any article, so an entry whose
fate is settled (stored, duplicate, off-topic, invalid, blocked, ...) costs
no request again.  Outcomes in `RETRY_OUTCOMES` are logged but not settled.
An entry whose article failed carries its retry state (``attempts``,
``retry_at``, the article ``url`` and what the listing said of it): from
then on the entry log alone brings it back, when `due_retries` says so,
whether or not its feed lists it again or changed at all
(`scraper.retries`).  So does a ``pending`` entry: listed, not fetched
yet.  A further listing page that was not read (a child sitemap, a
section's next page) is logged the same way under the entry key
``listing:<url>``, its ``listing`` saying where it sits (``{"listing_page":
N}`` or ``{"sitemap_depth": N}``), and `forget` removes it once read.  A
``failed`` row without ``retry_at`` (logged before migration 0005) is
fetched again when its listing offers it.

Functions here take an open `Connection`; `storage.Store` owns transactions.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, or_, select, union

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
    ``seen_at`` (aware) defaults to the time of the write.  A failed
    entry's retry state: ``attempts`` (failed fetches so far), ``retry_at``
    (when it is next due, ``None`` when not scheduled), ``url`` (the article
    to fetch) and ``listing`` (what its listing said: a `Clipping` dict).
    """

    source_id: str
    entry_key: str
    outcome: str
    url_hash: str | None = None
    reason: str | None = None
    seen_at: datetime | None = None
    attempts: int = 0
    retry_at: datetime | None = None
    url: str | None = None
    listing: dict[str, Any] | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class RetryEntry:
    """An entry due to be fetched again: its source, key, article ``url``,
    failed ``attempts`` so far and ``listing`` (a `Clipping` dict or
    ``None``)."""

    source_id: str
    entry_key: str
    url: str
    attempts: int
    listing: dict[str, Any] | None


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
            "attempts": item.attempts,
            "retry_at": item.retry_at,
            "url": item.url,
            "listing": item.listing,
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
            "attempts": stmt.excluded.attempts,
            "retry_at": stmt.excluded.retry_at,
            "url": func.coalesce(stmt.excluded.url, entries.c.url),
            "listing": func.coalesce(stmt.excluded.listing, entries.c.listing),
        },
        where=entries.c.outcome != "stored",
    )
    conn.execute(stmt, list(rows.values()))


def known(
    conn: Connection, source_id: str, keys: Iterable[str], url_hashes: Iterable[str]
) -> tuple[set[str], set[str]]:
    """``(entry keys of source_id, url hashes of any source)`` already
    settled, in the seen-entry log or as stored clippings.  One query for the
    keys and one for the hashes (more only past `storage.engine.IN_CHUNK`).
    An entry with a retry scheduled counts as known: `due_retries`, not
    its listing, brings it back."""
    settled = or_(
        entries.c.outcome.not_in(sorted(RETRY_OUTCOMES)), entries.c.retry_at.is_not(None)
    )
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


def due_retries(conn: Connection, source_ids: Iterable[str], now: datetime) -> list[RetryEntry]:
    """The failed entries of ``source_ids`` whose retry is due at ``now``,
    oldest due first."""
    due: list[RetryEntry] = []
    for chunk in chunked(dict.fromkeys(source_ids)):
        stmt = (
            select(
                entries.c.source_id,
                entries.c.entry_key,
                entries.c.url,
                entries.c.attempts,
                entries.c.listing,
            )
            .where(
                entries.c.source_id.in_(chunk),
                entries.c.outcome.in_(sorted(RETRY_OUTCOMES)),
                entries.c.retry_at <= now,
                entries.c.url.is_not(None),
            )
            .order_by(entries.c.retry_at)
        )
        due += [
            RetryEntry(
                source_id=row.source_id,
                entry_key=row.entry_key,
                url=row.url,
                attempts=row.attempts,
                listing=row.listing,
            )
            for row in conn.execute(stmt)
        ]
    return due


def forget(conn: Connection, keys: Iterable[tuple[str, str]]) -> None:
    """Remove the rows of ``(source_id, entry_key)`` pairs: a listing page
    recorded for a later round (entry key ``listing:<url>``) once it has
    been read; its articles have entries of their own."""
    for source_id, entry_key in dict.fromkeys(keys):
        conn.execute(
            delete(entries).where(
                entries.c.source_id == source_id, entries.c.entry_key == entry_key
            )
        )


def retry_counts(conn: Connection, source_ids: Iterable[str]) -> dict[str, tuple[int, int]]:
    """``source_id -> (entries waiting for a retry, entries given up)``."""
    counts: dict[str, list[int]] = {}
    for chunk in chunked(dict.fromkeys(source_ids)):
        stmt = (
            select(entries.c.source_id, entries.c.outcome, func.count())
            .where(
                entries.c.source_id.in_(chunk),
                or_(entries.c.retry_at.is_not(None), entries.c.outcome == "given_up"),
            )
            .group_by(entries.c.source_id, entries.c.outcome)
        )
        for source_id, outcome, n in conn.execute(stmt):
            pair = counts.setdefault(source_id, [0, 0])
            pair[1 if outcome == "given_up" else 0] += n
    return {source_id: (a, b) for source_id, (a, b) in counts.items()}
