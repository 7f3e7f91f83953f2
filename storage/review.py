"""Review: the queue of new clippings and the curator's decisions on them.

States move ``new -> approved | rejected -> published`` (see
`scraper.items.STATUSES`).  Rules kept here:

* the queue shows one row per syndication cluster, and only clusters that
  nobody has decided on: a cluster with an approved, rejected or published
  member is settled, so a rejected article that is seen again (a syndicated
  or re-posted copy, clustered with it by dedupe) never comes back;
* a published clipping is final: approving or rejecting it is refused;
* ``cluster_citations`` records which member a cluster is cited by.

Functions here take an open `Connection`; `storage.Store` owns transactions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, update

from scraper.items import Clipping
from storage.clippings import from_row
from storage.engine import dialect_insert
from storage.models import clippings, cluster_citations

#: Fields a curator may edit in review (see `edit`).
EDITABLE = ("title", "headline", "excerpt", "excerpt_paraphrased", "via", "authors", "outlet")


class ReviewError(ValueError):
    """A review action that cannot be applied; the message names the clipping."""


@dataclass(frozen=True, slots=True)
class QueueEntry:
    """One undecided cluster: the clipping shown (the earliest new member by
    article date, then id) and the other members as ``(id, outlet)``."""

    id: int
    clipping: Clipping
    also: tuple[tuple[int, str | None], ...] = ()


def queue(conn: Connection, limit: int | None = None) -> list[QueueEntry]:
    """Undecided clusters, oldest article first, at most ``limit``."""
    settled = select(clippings.c.cluster).where(clippings.c.status != "new")
    stmt = (
        select(clippings)
        .where(clippings.c.status == "new", clippings.c.cluster.not_in(settled))
        .order_by(clippings.c.published_at.is_(None), clippings.c.published_at, clippings.c.id)
    )
    groups: dict[str, list[tuple[int, Clipping]]] = {}
    for row in conn.execute(stmt):
        groups.setdefault(row.cluster, []).append((row.id, from_row(row)))
    out = [
        QueueEntry(id=members[0][0], clipping=members[0][1], also=_also(members[1:]))
        for members in groups.values()
    ]
    return out[:limit] if limit is not None else out


def _also(members: list[tuple[int, Clipping]]) -> tuple[tuple[int, str | None], ...]:
    return tuple((i, c.outlet) for i, c in members)


def statuses(conn: Connection, ids: Iterable[int]) -> dict[int, str]:
    """``id -> status`` of those of ``ids`` that exist."""
    wanted = list(dict.fromkeys(ids))
    stmt = select(clippings.c.id, clippings.c.status).where(clippings.c.id.in_(wanted))
    return {row.id: row.status for row in conn.execute(stmt)}


def _check(conn: Connection, ids: Iterable[int], action: str) -> list[int]:
    wanted = list(dict.fromkeys(ids))
    found = statuses(conn, wanted)
    missing = [i for i in wanted if i not in found]
    if missing:
        raise ReviewError(f"no clipping with id {', '.join(map(str, missing))}")
    final = [i for i in wanted if found[i] == "published"]
    if final:
        raise ReviewError(
            f"cannot {action} clipping {', '.join(map(str, final))}: already published"
        )
    return wanted


def approve(conn: Connection, ids: Iterable[int], now: datetime) -> list[int]:
    """Approve ``ids`` (new, rejected or already approved); the rejection
    reason of a formerly rejected one is cleared.  Returns the ids."""
    wanted = _check(conn, ids, "approve")
    conn.execute(
        update(clippings)
        .where(clippings.c.id.in_(wanted))
        .values(status="approved", rejection_reason=None, reviewed_at=now, updated_at=now)
    )
    return wanted


def reject(conn: Connection, ids: Iterable[int], reason: str, now: datetime) -> list[int]:
    """Reject ``ids`` with ``reason`` (non-empty plain text); a choice of
    them as their cluster's citation is withdrawn.  Returns the ids."""
    if not reason.strip():
        raise ReviewError("a rejection needs a reason")
    wanted = _check(conn, ids, "reject")
    conn.execute(
        update(clippings)
        .where(clippings.c.id.in_(wanted))
        .values(
            status="rejected", rejection_reason=reason.strip(), reviewed_at=now, updated_at=now
        )
    )
    conn.execute(cluster_citations.delete().where(cluster_citations.c.clipping_id.in_(wanted)))
    return wanted


def edit(
    conn: Connection, clipping_id: int, changes: Mapping[str, Any], now: datetime
) -> Clipping:
    """Apply ``changes`` (keys among `EDITABLE`) and return the clipping as
    stored.  The caller checks content rules (a verbatim excerpt); this only
    stores."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ReviewError(f"fields not editable in review: {', '.join(sorted(unknown))}")
    row = conn.execute(select(clippings).where(clippings.c.id == clipping_id)).first()
    if row is None:
        raise ReviewError(f"no clipping with id {clipping_id}")
    values = dict(changes)
    if "title" in values:
        values["title_from"] = "curator"
    if "excerpt" in values:
        values["excerpt_from"] = "curator"
    if "authors" in values:
        values["authors"] = list(values["authors"])
        values["authors_from"] = "curator"
    if values:
        conn.execute(
            update(clippings).where(clippings.c.id == clipping_id).values(**values, updated_at=now)
        )
    updated = conn.execute(select(clippings).where(clippings.c.id == clipping_id)).one()
    return from_row(updated)


def cite(conn: Connection, clipping_id: int, now: datetime) -> str:
    """Make ``clipping_id`` the one its cluster is cited by; a new clipping
    is approved on the way (choosing it is a decision).  Returns the
    cluster.  A rejected clipping cannot be cited."""
    row = conn.execute(
        select(clippings.c.cluster, clippings.c.status).where(clippings.c.id == clipping_id)
    ).first()
    if row is None:
        raise ReviewError(f"no clipping with id {clipping_id}")
    if row.status == "rejected":
        raise ReviewError(f"clipping {clipping_id} is rejected: approve it before citing it")
    if row.status == "new":
        approve(conn, [clipping_id], now)
    stmt = dialect_insert(conn, cluster_citations).values(
        cluster=row.cluster, clipping_id=clipping_id, chosen_at=now
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[cluster_citations.c.cluster],
        set_={"clipping_id": stmt.excluded.clipping_id, "chosen_at": stmt.excluded.chosen_at},
    )
    conn.execute(stmt)
    return str(row.cluster)
