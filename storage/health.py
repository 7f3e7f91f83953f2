"""Source health: how each source fares, as data.

`activity` measures how often a source publishes (the adaptive poll
interval of `scraper.polling` reads it); `source_health` adds its fetch
state, clipping rate, field fill rates and flags, for ``presscut sources
health`` and the review UI.  Both take ``now`` (aware), so a test can move
the clock.

Definitions (durations in seconds, datetimes aware UTC):

* an *entry* is an item a source's feed offered for the first time (a row of
  the seen-entry log, whatever its outcome); the entries of a source's first
  poll, its backlog, are every entry seen within `BACKLOG_S` of its earliest
  one and say nothing about its pace;
* *watched since* is the end of that backlog (or the source's creation when
  it has offered nothing yet);
* *fill rates* are shares (0..1) of the source's newest `FILL_SAMPLE`
  clippings with a title, at least one author, a publication date, and all
  three; *recent* is the newest `FILL_RECENT` of them, *earlier* the rest.

Flags (`FLAGS`):

* ``failing``: failure score of at least `FAILING_SCORE` (its polls back off);
* ``silent``: no new entry for longer than `SILENT_FACTOR` times its longest
  silence among its last `GAP_SAMPLE` entries, and at least `SILENT_MIN_S`;
* ``fill_dropped``: a field's recent fill rate is at least `FILL_DROP` below
  its earlier one (a site redesign broke extraction), given at least
  `FILL_MIN_RECENT` recent and `FILL_MIN_EARLIER` earlier clippings.

Functions here take an open `Connection`; `storage.Store` owns transactions.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise

from sqlalchemy import Connection, func, select

from storage import entries as entry_log
from storage.engine import chunked
from storage.models import clippings, entries, sources

BACKLOG_S = 3600.0
CLIPPING_WINDOW_S = 28 * 86_400.0
FILL_SAMPLE = 50
FILL_RECENT = 10
FILL_DROP = 0.3
FILL_MIN_RECENT = 5
FILL_MIN_EARLIER = 10
FAILING_SCORE = 2.0
GAP_SAMPLE = 200
#: Entries seen less than this apart arrived with the same poll (one silence).
SAME_ARRIVAL_S = 1800.0
MIN_GAPS = 4
SILENT_FACTOR = 2.0
SILENT_MIN_S = 2 * 86_400.0
FLAGS = ("failing", "silent", "fill_dropped")
_WEEK_S = 7 * 86_400.0


@dataclass(frozen=True, kw_only=True, slots=True)
class Activity:
    """A source's publishing over a window ending at ``now``: ``new_entries``
    first seen in its last ``watched_s`` seconds (the window, less the time
    before the source was watched); ``last_new_at`` its newest entry ever."""

    source_id: str
    new_entries: int
    watched_s: float
    last_new_at: datetime | None


@dataclass(frozen=True, kw_only=True, slots=True)
class FillRates:
    """Shares (0..1) of ``clippings`` clippings with each field filled;
    ``None`` when there are none."""

    clippings: int
    title: float | None
    authors: float | None
    published: float | None
    complete: float | None


@dataclass(frozen=True, kw_only=True, slots=True)
class SourceHealth:
    """One source's health; see the module docstring for the definitions.
    ``interval_s`` is the gap its fetch state set between its last poll and
    the next (seconds); ``longest_gap_s`` its longest silence among its
    recent entries (seconds, ``None`` with too few); ``clippings_per_week``
    counts clippings stored in the last `CLIPPING_WINDOW_S` seconds it was
    watched (``None`` before a day of watching)."""

    source_id: str
    outlet: str
    url: str
    poll_interval_s: float
    last_fetch_at: datetime | None
    last_success_at: datetime | None
    last_error_at: datetime | None
    last_error_kind: str | None
    last_error: str | None
    failure_score: float
    next_due_at: datetime | None
    interval_s: float | None
    activity: Activity
    longest_gap_s: float | None
    clippings_per_week: float | None
    fill: FillRates
    fill_recent: FillRates
    fill_earlier: FillRates
    flags: tuple[str, ...]
    retrying: int = 0
    """Entries whose article failed and waits for a retry (`scraper.retries`)."""
    given_up: int = 0
    """Entries whose article failed for good: a permanent failure, or every
    retry spent; the reasons are in the seen-entry log."""


def activity(
    conn: Connection, source_ids: Iterable[str], now: datetime, window_s: float
) -> dict[str, Activity]:
    """`Activity` over the last ``window_s`` seconds of each stored source
    among ``source_ids``."""
    ids = list(dict.fromkeys(source_ids))
    created = _created(conn, ids)
    bounds = _entry_bounds(conn, ids)
    return {
        source_id: _activity(conn, source_id, now, window_s, created, bounds)
        for source_id in ids
        if source_id in created or source_id in bounds
    }


def source_health(
    conn: Connection, now: datetime, window_s: float, source_ids: Sequence[str] | None = None
) -> list[SourceHealth]:
    """Health of every stored source (or of those in ``source_ids``), by id."""
    stmt = select(sources).order_by(sources.c.id)
    if source_ids is not None:
        stmt = stmt.where(sources.c.id.in_(list(source_ids)))
    rows = list(conn.execute(stmt))
    bounds = _entry_bounds(conn, [row.id for row in rows])
    created = {row.id: row.created_at for row in rows}
    retries = entry_log.retry_counts(conn, [row.id for row in rows])
    report = []
    for row in rows:
        since = _watched_since(row.id, created, bounds)
        sample = _fill_sample(conn, row.id)
        recent, earlier = sample[:FILL_RECENT], sample[FILL_RECENT:]
        fills = (_fill(sample), _fill(recent), _fill(earlier))
        act = _activity(conn, row.id, now, window_s, created, bounds)
        gap = _longest_gap(conn, row.id, since)
        interval = (
            (row.next_due_at - row.last_fetch_at).total_seconds()
            if row.next_due_at and row.last_fetch_at
            else None
        )
        report.append(
            SourceHealth(
                source_id=row.id,
                outlet=row.outlet,
                url=row.url,
                poll_interval_s=row.poll_interval_s,
                last_fetch_at=row.last_fetch_at,
                last_success_at=row.last_success_at,
                last_error_at=row.last_error_at,
                last_error_kind=row.last_error_kind,
                last_error=row.last_error,
                failure_score=row.failure_score,
                next_due_at=row.next_due_at,
                interval_s=interval,
                activity=act,
                longest_gap_s=gap,
                clippings_per_week=_per_week(conn, row.id, since, now),
                fill=fills[0],
                fill_recent=fills[1],
                fill_earlier=fills[2],
                flags=flags(row.failure_score, act.last_new_at, gap, fills[1], fills[2], now),
                retrying=retries.get(row.id, (0, 0))[0],
                given_up=retries.get(row.id, (0, 0))[1],
            )
        )
    return report


def flags(
    failure_score: float,
    last_new_at: datetime | None,
    longest_gap_s: float | None,
    recent: FillRates,
    earlier: FillRates,
    now: datetime,
) -> tuple[str, ...]:
    """The `FLAGS` that apply, in `FLAGS` order."""
    raised = []
    if failure_score >= FAILING_SCORE:
        raised.append("failing")
    if last_new_at is not None and longest_gap_s is not None:
        quiet = (now - last_new_at).total_seconds()
        if quiet > max(SILENT_FACTOR * longest_gap_s, SILENT_MIN_S):
            raised.append("silent")
    if recent.clippings >= FILL_MIN_RECENT and earlier.clippings >= FILL_MIN_EARLIER:
        pairs = [
            (recent.title, earlier.title),
            (recent.authors, earlier.authors),
            (recent.published, earlier.published),
        ]
        if any(e - r >= FILL_DROP for r, e in pairs if r is not None and e is not None):
            raised.append("fill_dropped")
    return tuple(raised)


def _created(conn: Connection, ids: list[str]) -> dict[str, datetime]:
    found: dict[str, datetime] = {}
    for chunk in chunked(ids):
        stmt = select(sources.c.id, sources.c.created_at).where(sources.c.id.in_(chunk))
        found.update({source_id: created for source_id, created in conn.execute(stmt)})
    return found


def _entry_bounds(conn: Connection, ids: list[str]) -> dict[str, tuple[datetime, datetime]]:
    """``source_id -> (earliest, latest seen_at)`` of sources with entries."""
    found: dict[str, tuple[datetime, datetime]] = {}
    for chunk in chunked(ids):
        stmt = (
            select(entries.c.source_id, func.min(entries.c.seen_at), func.max(entries.c.seen_at))
            .where(entries.c.source_id.in_(chunk))
            .group_by(entries.c.source_id)
        )
        for source_id, first, last in conn.execute(stmt):
            found[source_id] = (first, last)
    return found


def _watched_since(
    source_id: str,
    created: dict[str, datetime],
    bounds: dict[str, tuple[datetime, datetime]],
) -> datetime:
    if source_id in bounds:
        return bounds[source_id][0] + timedelta(seconds=BACKLOG_S)
    return created[source_id]


def _activity(
    conn: Connection,
    source_id: str,
    now: datetime,
    window_s: float,
    created: dict[str, datetime],
    bounds: dict[str, tuple[datetime, datetime]],
) -> Activity:
    start = max(now - timedelta(seconds=window_s), _watched_since(source_id, created, bounds))
    count = conn.execute(
        select(func.count())
        .select_from(entries)
        .where(
            entries.c.source_id == source_id,
            entries.c.seen_at > start,
            entries.c.seen_at <= now,
        )
    ).scalar_one()
    last = bounds[source_id][1] if source_id in bounds else None
    return Activity(
        source_id=source_id,
        new_entries=int(count),
        watched_s=max((now - start).total_seconds(), 0.0),
        last_new_at=last,
    )


def _longest_gap(conn: Connection, source_id: str, since: datetime) -> float | None:
    """The longest silence between arrivals among the source's last
    `GAP_SAMPLE` entries seen since ``since``; ``None`` under `MIN_GAPS`."""
    stmt = (
        select(entries.c.seen_at)
        .where(entries.c.source_id == source_id, entries.c.seen_at >= since)
        .order_by(entries.c.seen_at.desc())
        .limit(GAP_SAMPLE)
    )
    times = sorted(conn.scalars(stmt))
    gaps = [
        (later - earlier).total_seconds()
        for earlier, later in pairwise(times)
        if (later - earlier).total_seconds() > SAME_ARRIVAL_S
    ]
    return max(gaps) if len(gaps) >= MIN_GAPS else None


def _per_week(conn: Connection, source_id: str, since: datetime, now: datetime) -> float | None:
    start = max(now - timedelta(seconds=CLIPPING_WINDOW_S), since)
    span = (now - start).total_seconds()
    if span < 86_400.0:  # under a day of history: a rate would be noise
        return None
    count = conn.execute(
        select(func.count())
        .select_from(clippings)
        .where(
            clippings.c.source_id == source_id,
            clippings.c.created_at > start,
            clippings.c.created_at <= now,
        )
    ).scalar_one()
    return int(count) * _WEEK_S / span


def _fill_sample(conn: Connection, source_id: str) -> list[tuple[bool, bool, bool]]:
    """``(title, authors, published)`` filled, of the newest clippings first."""
    stmt = (
        select(clippings.c.title, clippings.c.authors, clippings.c.published_at)
        .where(clippings.c.source_id == source_id)
        .order_by(clippings.c.id.desc())
        .limit(FILL_SAMPLE)
    )
    return [
        (bool(title and title.strip()), bool(authors), published is not None)
        for title, authors, published in conn.execute(stmt)
    ]


def _fill(sample: Sequence[tuple[bool, bool, bool]]) -> FillRates:
    n = len(sample)
    if not n:
        return FillRates(clippings=0, title=None, authors=None, published=None, complete=None)
    return FillRates(
        clippings=n,
        title=sum(t for t, _, _ in sample) / n,
        authors=sum(a for _, a, _ in sample) / n,
        published=sum(p for _, _, p in sample) / n,
        complete=sum(all(fields) for fields in sample) / n,
    )
