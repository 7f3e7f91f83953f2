"""Crawl runs: one row per crawl round, with Scrapy's stats and a per-source
summary, so a curator can see when presscut last ran and how it went.

Functions here take an open `Connection`; `storage.Store` owns transactions.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from storage.models import crawl_runs

#: Run states: ``running`` until `finish` records how the round ended.
RUN_STATUSES = ("running", "finished", "failed", "interrupted")


@dataclass(frozen=True, kw_only=True, slots=True)
class CrawlRun:
    """A crawl round as stored; ``stats`` and ``summary`` are ``None`` while
    it runs."""

    id: int
    started_at: datetime
    finished_at: datetime | None
    status: str
    stats: dict[str, Any] | None
    summary: dict[str, Any] | None


def start(conn: Connection, now: datetime) -> int:
    """Record a run that started at ``now``; returns its id."""
    result = conn.execute(
        insert(crawl_runs).values(started_at=now, status="running").returning(crawl_runs.c.id)
    )
    return int(result.scalar_one())


def finish(
    conn: Connection,
    run_id: int,
    status: str,
    stats: Mapping[str, Any],
    summary: Mapping[str, Any],
    now: datetime,
) -> None:
    """Record how run ``run_id`` ended; `ValueError` for an unknown status
    or run id.  ``stats`` and ``summary`` are stored via `json_safe`."""
    if status not in RUN_STATUSES:
        raise ValueError(f"run status {status!r} is not one of {RUN_STATUSES}")
    result = conn.execute(
        update(crawl_runs)
        .where(crawl_runs.c.id == run_id)
        .values(finished_at=now, status=status, stats=json_safe(stats), summary=json_safe(summary))
    )
    if result.rowcount != 1:
        raise ValueError(f"no crawl run with id {run_id}")


def recent(conn: Connection, limit: int) -> list[CrawlRun]:
    """The last ``limit`` runs, newest first."""
    stmt = select(crawl_runs).order_by(crawl_runs.c.id.desc()).limit(limit)
    return [CrawlRun(**row._asdict()) for row in conn.execute(stmt)]


def json_safe(value: Any) -> Any:
    """``value`` as JSON can hold it: mappings with string keys, lists for
    sequences and sets, ISO 8601 for dates, ``None`` for NaN and infinities
    (PostgreSQL's JSON refuses them), ``str()`` for anything else."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_safe(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)
