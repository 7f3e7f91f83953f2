"""The curator's desk: its queue listing, versioned saves, pasted article
text and source switches, each recorded in the audit log.

Contracts:

* `queue_rows` lists clippings in one state, newest stored first (keyset
  paging on ``(created_at, id)``), one row per syndication cluster on a
  page, with the number of outlets that ran the story; state ``new`` means
  the undecided clusters, as in `storage.review.page`;
* `save` applies an edit only when the clipping is still at the version the
  curator loaded; otherwise `StaleEdit` names who changed it last and
  nothing is written;
* every action through `Desk` appends to the audit log in its own
  transaction (`storage.audit`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Text, and_, cast, func, or_, select, tuple_, update

from scraper.items import Clipping
from storage import audit, review, search
from storage.clippings import from_row
from storage.models import clippings, sources
from storage.review import ReviewError

#: Queue filters by flag.
FLAGS = ("needs-text", "low-confidence", "syndicated")
#: Where a value is only a guess: a field taken from these is low-confidence.
GUESSED = (None, "url", "trafilatura")


class StaleEdit(ReviewError):
    """A save made on a copy of the clipping someone changed since."""


@dataclass(frozen=True, slots=True)
class Row:
    """A queue row: the clipping, its id and version, and its cluster's size."""

    id: int
    clipping: Clipping
    version: int
    outlets: int

    @property
    def flags(self) -> list[str]:
        """The row's flags, among `FLAGS`."""
        return row_flags(self.clipping, self.outlets)


def row_flags(c: Clipping, outlets: int) -> list[str]:
    """The flags of clipping ``c`` in a cluster of ``outlets`` members."""
    out = []
    if not c.text.strip() or c.text_from is None or c.flags:
        out.append("needs-text")
    guessed = c.authors_from in GUESSED or c.title_from in GUESSED
    if c.published_at is None or guessed or c.doubts:
        out.append("low-confidence")
    if outlets > 1:
        out.append("syndicated")
    return out


def _flag_condition(flag: str) -> Any:
    if flag == "needs-text":
        return or_(
            func.trim(clippings.c.text) == "",
            clippings.c.text_from.is_(None),
            # Stored as JSON text: "[]" when the clipping has no text flag.
            cast(clippings.c.flags, Text) != "[]",
        )
    if flag == "low-confidence":
        return or_(
            clippings.c.published_at.is_(None),
            clippings.c.authors_from.is_(None),
            clippings.c.authors_from.in_(GUESSED[1:]),
            clippings.c.title_from.is_(None),
            clippings.c.title_from.in_(GUESSED[1:]),
            # Stored as JSON text: "[]" when no credit field is in doubt.
            cast(clippings.c.doubts, Text) != "[]",
        )
    if flag == "syndicated":
        other = clippings.alias("other")
        return (
            select(other.c.id)
            .where(other.c.cluster == clippings.c.cluster, other.c.id != clippings.c.id)
            .exists()
        )
    raise ReviewError(f"unknown flag {flag!r}: one of {', '.join(FLAGS)}")


def queue_rows(
    conn: Connection,
    state: str = "new",
    topic: str | None = None,
    source_id: str | None = None,
    flag: str | None = None,
    query: str | None = None,
    before: int | None = None,
    limit: int = 50,
) -> list[Row]:
    """A page of the queue (see the module docstring); ``query`` searches
    title and text instead: the newest ``limit`` matches in ``state``, best
    match first, one page.  Ranked no further back than the page, as the
    queue is read newest first: a common word's older matches in a state
    that holds few of them would otherwise be looked for across the whole
    archive on every keystroke of the search box."""
    if query:
        hits = search.search(conn, query, limit, state, source_id, window=limit)
        found = [(h.id, h.clipping) for h in hits]
    elif state == "new" and flag is None:
        found = review.page(conn, topic, source_id, limit, before)
    else:
        found = _filtered(conn, state, topic, source_id, flag, before, limit)
    seen: set[str] = set()
    unique = []
    for clipping_id, c in found:
        if topic and query and topic not in c.topics:
            continue
        if c.cluster in seen:
            continue
        seen.add(c.cluster or "")
        unique.append((clipping_id, c))
    sizes = cluster_sizes(conn, [c.cluster for _, c in unique if c.cluster])
    versions = dict(
        conn.execute(
            select(clippings.c.id, clippings.c.version).where(
                clippings.c.id.in_([i for i, _ in unique])
            )
        ).all()
    )
    return [Row(i, c, versions.get(i, 1), sizes.get(c.cluster or "", 1)) for i, c in unique]


def _filtered(
    conn: Connection,
    state: str,
    topic: str | None,
    source_id: str | None,
    flag: str | None,
    before: int | None,
    limit: int,
) -> list[tuple[int, Clipping]]:
    key = (clippings.c.created_at, clippings.c.id)
    newest = None
    if before is not None:
        newest = conn.execute(select(*key).where(clippings.c.id == before)).first()
        if newest is None:
            raise ReviewError(f"no clipping with id {before}")
    if topic:
        # The topic rows carry status and source: one index range.
        stmt = review.by_topic(topic, source_id or None, state, newest)
    else:
        stmt = select(clippings).where(clippings.c.status == state)
        if source_id:
            stmt = stmt.where(clippings.c.source_id == source_id)
        if newest is not None:
            stmt = stmt.where(tuple_(*key) < tuple(newest))
        stmt = stmt.order_by(key[0].desc(), key[1].desc())
    if state == "new":
        stmt = stmt.where(review._undecided_cluster())
    if flag:
        stmt = stmt.where(_flag_condition(flag))
    return [(r.id, from_row(r)) for r in conn.execute(stmt.limit(limit))]


def cluster_sizes(conn: Connection, clusters: Iterable[str]) -> dict[str, int]:
    """``cluster -> number of clippings`` for ``clusters``."""
    wanted = list(dict.fromkeys(clusters))
    if not wanted:
        return {}
    stmt = (
        select(clippings.c.cluster, func.count())
        .where(clippings.c.cluster.in_(wanted))
        .group_by(clippings.c.cluster)
    )
    return {cluster: n for cluster, n in conn.execute(stmt)}


def cluster_members(conn: Connection, cluster: str) -> list[tuple[int, Clipping]]:
    """Every clipping of ``cluster``, oldest id first."""
    stmt = select(clippings).where(clippings.c.cluster == cluster).order_by(clippings.c.id)
    return [(r.id, from_row(r)) for r in conn.execute(stmt)]


def version(conn: Connection, clipping_id: int) -> int | None:
    """The clipping's version, ``None`` when there is no such clipping."""
    return conn.execute(
        select(clippings.c.version).where(clippings.c.id == clipping_id)
    ).scalar_one_or_none()


def save(
    conn: Connection,
    clipping_id: int,
    changes: Mapping[str, Any],
    expected_version: int,
    user: str,
    now: datetime,
) -> Clipping:
    """Store ``changes`` (as `storage.review.edit`) if the clipping is still
    at ``expected_version``; else `StaleEdit` naming the last editor."""
    current = version(conn, clipping_id)
    if current is None:
        raise ReviewError(f"no clipping with id {clipping_id}")
    if current != expected_version:
        last = audit.last_editor(conn, clipping_id)
        who = f"{last.user} at {last.at:%Y-%m-%d %H:%M} UTC" if last else "someone else"
        raise StaleEdit(
            f"clipping {clipping_id} was changed by {who} since you opened it; "
            "reload it to see their change, then save again"
        )
    updated = review.edit(conn, clipping_id, changes, now)
    audit.record(conn, user, "edit", now, [clipping_id], {"fields": sorted(changes)})
    return updated


def paste_text(
    conn: Connection, clipping_id: int, text: str, expected_version: int, user: str, now: datetime
) -> None:
    """Replace the article's text with one a curator pasted (versioned as
    `save`); its "needs text" flags (`scraper.items.TEXT_FLAGS`) clear."""
    current = version(conn, clipping_id)
    if current is None:
        raise ReviewError(f"no clipping with id {clipping_id}")
    if current != expected_version:
        raise StaleEdit(f"clipping {clipping_id} changed since you opened it; reload it")
    conn.execute(
        update(clippings)
        .where(and_(clippings.c.id == clipping_id, clippings.c.version == expected_version))
        .values(
            text=text,
            text_from="curator",
            flags=[],
            updated_at=now,
            version=clippings.c.version + 1,
        )
    )
    audit.record(conn, user, "edit", now, [clipping_id], {"fields": ["text"]})


def set_paused(conn: Connection, source_id: str, paused: bool, user: str, now: datetime) -> None:
    """Pause or resume polling ``source_id``."""
    done = conn.execute(
        update(sources).where(sources.c.id == source_id).values(paused=paused, updated_at=now)
    )
    if not done.rowcount:
        raise ReviewError(f"no source {source_id!r}")
    audit.record(conn, user, "disable" if paused else "enable", now, detail={"source": source_id})


def poll_now(conn: Connection, source_id: str, user: str, now: datetime) -> None:
    """Make ``source_id`` due at once (the next crawl round polls it)."""
    done = conn.execute(
        update(sources).where(sources.c.id == source_id).values(next_due_at=now, updated_at=now)
    )
    if not done.rowcount:
        raise ReviewError(f"no source {source_id!r}")
    audit.record(conn, user, "poll-now", now, detail={"source": source_id})


def paused_sources(conn: Connection) -> set[str]:
    """Ids of the sources paused on the desk."""
    return set(conn.scalars(select(sources.c.id).where(sources.c.paused.is_(True))))
