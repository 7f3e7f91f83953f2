"""Review: the queue of new clippings and the curator's decisions on them.

States move ``new -> approved | rejected -> published`` (see
`scraper.items.STATUSES`).  Rules kept here:

* the queue shows one row per syndication cluster, and only clusters that
  nobody has decided on: a cluster with an approved, rejected or published
  member is settled, so a rejected article that is seen again (a syndicated
  or re-posted copy, clustered with it by dedupe) never comes back;
* the queue *page* (`page`) shows the same undecided clippings one per row
  (a syndicated copy is a row of its own), newest stored first, a page at a
  time, optionally of one topic and/or one source: the view for a store too
  large to list whole.  Whether a cluster is settled is read from the index
  on ``(cluster, status)`` for each row considered, so nothing needs to be
  kept in step when a decision is made;
* a published clipping is final: approving or rejecting it is refused, and
  editing it is refused unless the edit is a correction, which the post
  records of the clipping follow (their title is the corrected headline);
* ``cluster_citations`` records which member a cluster is cited by.

Functions here take an open `Connection`; `storage.Store` owns transactions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, select, tuple_, update

from scraper.items import Clipping
from storage.clippings import clean_value, copy_status_to_topics, from_row
from storage.engine import dialect_insert
from storage.models import clipping_topics, clippings, cluster_citations
from storage.publishing import retitle_posts

#: Fields a curator may edit in review (see `edit`).
EDITABLE = (
    "title",
    "headline",
    "excerpt",
    "excerpt_paraphrased",
    "via",
    "authors",
    "outlet",
    "published_at",
    "text",
)


class ReviewError(ValueError):
    """A review action that cannot be applied; the message names the clipping."""


@dataclass(frozen=True, slots=True)
class QueueEntry:
    """One undecided cluster: the clipping shown (the earliest new member by
    article date, then id) and the other members as ``(id, outlet)``."""

    id: int
    clipping: Clipping
    also: tuple[tuple[int, str | None], ...] = ()


def _undecided_cluster() -> Any:
    """True for a row of ``clippings`` whose cluster has no decided member."""
    decided = clippings.alias("decided")
    # Selecting the id (SQLite's rowid) keeps the probe within the index.
    member = select(decided.c.id).where(
        decided.c.cluster == clippings.c.cluster, decided.c.status != "new"
    )
    return ~member.exists()


def queue(conn: Connection, limit: int | None = None) -> list[QueueEntry]:
    """Undecided clusters, oldest article first, at most ``limit``."""
    stmt = (
        select(clippings)
        .where(clippings.c.status == "new", _undecided_cluster())
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


def page(
    conn: Connection,
    topic: str | None = None,
    source_id: str | None = None,
    limit: int = 50,
    before: int | None = None,
) -> list[tuple[int, Clipping]]:
    """At most ``limit`` ``(id, Clipping)`` of the new clippings in
    undecided clusters, newest stored first (``created_at``, then id), of
    ``topic`` and/or ``source_id`` when given.  ``before`` is the id of the
    last clipping of the previous page: this page continues after it
    (keyset paging: stable while clippings arrive).  `ReviewError` for an
    unknown ``before``."""
    newest = None
    if before is not None:
        newest = conn.execute(
            select(clippings.c.created_at, clippings.c.id).where(clippings.c.id == before)
        ).first()
        if newest is None:
            raise ReviewError(f"no clipping with id {before}")
    if topic is not None:
        stmt = by_topic(topic, source_id, "new", newest)
    else:
        stmt = _by_source(source_id, newest)
    rows = conn.execute(stmt.where(_undecided_cluster()).limit(limit))
    return [(row.id, from_row(row)) for row in rows]


def by_topic(topic: str, source_id: str | None, status: str, newest: Any) -> Select[Any]:
    """The clippings of ``topic`` (and ``source_id`` when given) in
    ``status``, newest stored first, after the ``(created_at, id)`` key
    ``newest`` when given: one range of an index on ``clipping_topics``,
    each entry joined to its clipping."""
    key = (clipping_topics.c.created_at, clipping_topics.c.clipping_id)
    stmt = (
        select(clippings)
        .select_from(clipping_topics)
        .join(clippings, clippings.c.id == clipping_topics.c.clipping_id)
        .where(clipping_topics.c.topic == topic, clipping_topics.c.status == status)
        .order_by(key[0].desc(), key[1].desc())
    )
    if source_id is not None:
        stmt = stmt.where(clipping_topics.c.source_id == source_id)
    return stmt if newest is None else stmt.where(tuple_(*key) < tuple(newest))


def _by_source(source_id: str | None, newest: Any) -> Select[Any]:
    # Walk (source_id, status, created_at, id) or (status, created_at, id)
    # newest first.
    key = (clippings.c.created_at, clippings.c.id)
    stmt = select(clippings).where(clippings.c.status == "new")
    if source_id is not None:
        stmt = stmt.where(clippings.c.source_id == source_id)
    stmt = stmt.order_by(key[0].desc(), key[1].desc())
    return stmt if newest is None else stmt.where(tuple_(*key) < tuple(newest))


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
    copy_status_to_topics(conn, wanted)
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
    copy_status_to_topics(conn, wanted)
    conn.execute(cluster_citations.delete().where(cluster_citations.c.clipping_id.in_(wanted)))
    return wanted


# Edited column -> the credit field of `Clipping.doubts` it settles.
_CREDIT_FIELD = {"title": "title", "authors": "authors", "published_at": "date"}


def edit(
    conn: Connection,
    clipping_id: int,
    changes: Mapping[str, Any],
    now: datetime,
    correction: bool = False,
) -> Clipping:
    """Apply ``changes`` (keys among `EDITABLE`) and return the clipping as
    stored.  A published clipping is edited only as a ``correction`` (see
    the module docstring).  The caller checks content rules (a verbatim
    excerpt); this only stores."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ReviewError(f"fields not editable in review: {', '.join(sorted(unknown))}")
    row = conn.execute(select(clippings).where(clippings.c.id == clipping_id)).first()
    if row is None:
        raise ReviewError(f"no clipping with id {clipping_id}")
    if row.status == "published" and not correction:
        raise ReviewError(
            f"clipping {clipping_id} is published: pass --correction to correct it "
            "(its post record follows the correction)"
        )
    values = {name: clean_value(value) for name, value in changes.items()}
    if "title" in values:
        values["title_from"] = "curator"
    if "excerpt" in values:
        values["excerpt_from"] = "curator"
    if "published_at" in values:
        values["published_from"] = "curator"
    if "text" in values:
        # The curator supplied the article: it no longer needs text.
        values["text_from"] = "curator"
        values["flags"] = []
    if "authors" in values:
        values["authors"] = list(values["authors"])
        values["authors_from"] = "curator"
    # A credit field the curator set is no longer in doubt.
    fixed = {_CREDIT_FIELD[name] for name in values if name in _CREDIT_FIELD}
    if fixed & set(row.doubts or []):
        values["doubts"] = [d for d in row.doubts if d not in fixed]
    if values:
        conn.execute(
            update(clippings)
            .where(clippings.c.id == clipping_id)
            .values(**values, updated_at=now, version=clippings.c.version + 1)
        )
    updated = from_row(conn.execute(select(clippings).where(clippings.c.id == clipping_id)).one())
    if row.status == "published" and values:
        retitle_posts(conn, clipping_id, updated.headline or updated.title or updated.url, now)
    return updated


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
