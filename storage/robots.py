"""robots.txt copies kept between rounds, one per host.

A round asks for a host's copy before it fetches the host's robots.txt
(`get`); a copy still fresh (``expires_at`` after now) is used as it is,
without a request.  A stale one is asked for again conditionally with its
validators, and an answer (a body, a 4xx, or a 304) is saved (`put`).  When
each copy goes stale, and what a 5xx or an unreachable robots.txt means, is
the crawl's rule (`scraper.robots`); this module only keeps the rows.

Functions here take an open `Connection`; `storage.Store` owns transactions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select

from storage.engine import dialect_insert
from storage.models import robots_txt


@dataclass(frozen=True, kw_only=True, slots=True)
class RobotsCopy:
    """The last answer of a host's robots.txt.

    ``host`` is ``scheme://host[:port]`` (robots.txt rules hold per scheme,
    host and port); ``status`` the HTTP status of the last full answer (2xx:
    ``body`` holds the rules; 4xx: no rules, everything allowed); ``etag``
    and ``last_modified`` its validators, sent on the next conditional
    request; ``fetched_at`` when it was last answered (a 304 included) and
    ``expires_at`` when it goes stale; ``lifetime_s`` the freshness its last
    full answer gave, kept for a 304 that gives none (datetimes aware UTC).
    """

    host: str
    status: int
    body: bytes
    etag: str | None
    last_modified: str | None
    fetched_at: datetime
    expires_at: datetime
    lifetime_s: float


def get(conn: Connection, host: str) -> RobotsCopy | None:
    """The stored copy of ``host``'s robots.txt, or ``None``."""
    row = conn.execute(select(robots_txt).where(robots_txt.c.host == host)).first()
    if row is None:
        return None
    return RobotsCopy(
        host=row.host,
        status=row.status,
        body=bytes(row.body),
        etag=row.etag,
        last_modified=row.last_modified,
        fetched_at=row.fetched_at,
        expires_at=row.expires_at,
        lifetime_s=row.lifetime_s,
    )


def put(conn: Connection, copy: RobotsCopy) -> None:
    """Save ``copy`` over any earlier copy of its host."""
    values = {
        "host": copy.host,
        "status": copy.status,
        "body": copy.body,
        "etag": copy.etag,
        "last_modified": copy.last_modified,
        "fetched_at": copy.fetched_at,
        "expires_at": copy.expires_at,
        "lifetime_s": copy.lifetime_s,
    }
    stmt = dialect_insert(conn, robots_txt).values(values)
    stmt = stmt.on_conflict_do_update(
        index_elements=[robots_txt.c.host],
        set_={k: v for k, v in values.items() if k != "host"},
    )
    conn.execute(stmt)
