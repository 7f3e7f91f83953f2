"""Housekeeping for a database that runs for months: pruning the seen-entry
log and closing crawl runs whose process died before recording its end.

Functions here take an open `Connection`; `storage.Store` owns transactions.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Connection, delete, update

from storage.models import crawl_runs, entries

#: Outcomes whose log rows may be pruned: nothing was stored for them, and an
#: entry old enough has left its feed, so it will not be offered again.
PRUNABLE = ("off_topic", "duplicate")


def prune_entries(conn: Connection, before: datetime, outcomes: Iterable[str] = PRUNABLE) -> int:
    """Delete seen-entry rows with an outcome among ``outcomes`` (a subset of
    `PRUNABLE`) first seen before ``before``.  Returns how many went.

    A pruned entry that its feed still lists is fetched and judged again,
    once; keep ``before`` older than any feed keeps its items."""
    chosen = sorted(set(outcomes))
    unknown = set(chosen) - set(PRUNABLE)
    if unknown:
        raise ValueError(f"cannot prune outcomes {sorted(unknown)}: only {PRUNABLE}")
    if not chosen:
        return 0
    result = conn.execute(
        delete(entries).where(entries.c.outcome.in_(chosen), entries.c.seen_at < before)
    )
    return int(result.rowcount or 0)


#: ``finish_reason`` of a run found ``running`` by a round that holds the
#: round lock: no round runs, so that run's process is gone (killed).
STALE_RUN_REASON = "abandoned: the crawling process ended unrecorded"


def abandon_runs(
    conn: Connection,
    now: datetime,
    status: str,
    reason: str,
    started_after: datetime | None = None,
) -> int:
    """Record crawl runs still ``running`` that started before ``now`` (and
    after ``started_after``, when given) as ended at ``now`` with ``status``
    (``interrupted`` or ``failed``) and ``reason`` as their
    ``finish_reason``.  Returns how many.

    For runs whose process is known to be gone (killed, crashed).  A run
    that is in fact still going records its own end later, over this one."""
    if status not in ("interrupted", "failed"):
        raise ValueError(f"an abandoned run is interrupted or failed, not {status!r}")
    stmt = update(crawl_runs).where(
        crawl_runs.c.status == "running", crawl_runs.c.started_at < now
    )
    if started_after is not None:
        stmt = stmt.where(crawl_runs.c.started_at >= started_after)
    result = conn.execute(
        stmt.values(finished_at=now, status=status, stats={"finish_reason": reason}, summary={})
    )
    return int(result.rowcount or 0)
