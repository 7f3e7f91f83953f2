"""Publications: what went out, so nothing goes out twice by accident.

A publication is a clipping's post (``kind`` "post", one item) or a digest
(``kind`` "digest", its clippings in order) on a ``target``: "site" is the
publication's own record (what the archive, feed and exports show), and
"wordpress:<site URL>" a copy made on a WordPress site (``remote_id`` is the
WordPress post id, ``remote_status`` "draft" or "publish", ``copy_of`` the
site record it copies, once there is one).

Invariant (a unique key in the database): a syndication cluster goes out at
most once per target and kind.  One entry per cluster is cited by the member
the curator chose (``cluster_citations``), else by the earliest approved or
published member (article date, then id).

Functions here take an open `Connection`; `storage.Store` owns transactions.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, and_, exists, select, union, update

from scraper.items import Clipping
from storage.clippings import copy_status_to_topics, from_row
from storage.engine import chunked
from storage.models import clippings, cluster_citations, publication_items, publications

#: The publication's own record.
SITE = "site"
#: Kinds of publication.
KINDS = ("post", "digest")
#: Review states a clipping can go out in.
LIVE = ("approved", "published")


class AlreadyPublished(ValueError):
    """Some clusters of a publication already went out on that target as
    that kind; ``clusters`` names them.  Nothing was written."""

    def __init__(self, target: str, kind: str, clusters: Sequence[str]) -> None:
        self.clusters = tuple(clusters)
        super().__init__(
            f"already published as a {kind} on {target}: cluster(s) {', '.join(clusters)}"
        )


@dataclass(frozen=True, slots=True)
class Publication:
    """A stored publication; ``items`` are clipping ids in order, datetimes
    aware UTC."""

    id: int
    kind: str
    target: str
    title: str
    posted_at: datetime
    items: tuple[int, ...] = ()
    period_start: datetime | None = None
    period_end: datetime | None = None
    copy_of: int | None = None
    remote_id: str | None = None
    remote_status: str | None = None
    remote_url: str | None = None


def _publications(conn: Connection, rows: Iterable[Row[Any]]) -> list[Publication]:
    rows = list(rows)
    items: dict[int, list[int]] = {row.id: [] for row in rows}
    for chunk in chunked(list(items)):
        stmt = (
            select(publication_items.c.publication_id, publication_items.c.clipping_id)
            .where(publication_items.c.publication_id.in_(chunk))
            .order_by(publication_items.c.publication_id, publication_items.c.position)
        )
        for pub_id, clipping_id in conn.execute(stmt):
            items[pub_id].append(clipping_id)
    fields = (
        "kind", "target", "title", "posted_at", "period_start", "period_end",
        "copy_of", "remote_id", "remote_status", "remote_url",
    )  # fmt: skip
    return [
        Publication(id=row.id, items=tuple(items[row.id]), **{f: row._mapping[f] for f in fields})
        for row in rows
    ]


def get(conn: Connection, publication_id: int) -> Publication | None:
    """The publication with id ``publication_id``, if any."""
    rows = conn.execute(select(publications).where(publications.c.id == publication_id))
    found = _publications(conn, rows)
    return found[0] if found else None


def listing(
    conn: Connection, target: str = SITE, kind: str | None = None, since: datetime | None = None
) -> list[Publication]:
    """Publications on ``target``, newest post first (then newest id),
    optionally of one ``kind`` and posted at or after ``since``."""
    stmt = select(publications).where(publications.c.target == target)
    if kind is not None:
        stmt = stmt.where(publications.c.kind == kind)
    if since is not None:
        stmt = stmt.where(publications.c.posted_at >= since)
    stmt = stmt.order_by(publications.c.posted_at.desc(), publications.c.id.desc())
    return _publications(conn, conn.execute(stmt))


def digest_for_period(
    conn: Connection, start: datetime | None, end: datetime, target: str = SITE
) -> Publication | None:
    """The digest on ``target`` covering exactly ``[start, end)``, if any."""
    stmt = select(publications).where(
        publications.c.target == target,
        publications.c.kind == "digest",
        publications.c.period_end == end,
        publications.c.period_start.is_(None)
        if start is None
        else publications.c.period_start == start,
    )
    found = _publications(conn, conn.execute(stmt.order_by(publications.c.id)))
    return found[0] if found else None


def last_digest_end(conn: Connection, target: str = SITE) -> datetime | None:
    """End of the latest period a digest on ``target`` covered."""
    stmt = select(publications.c.period_end).where(
        publications.c.target == target, publications.c.kind == "digest"
    )
    ends = [end for end in conn.scalars(stmt) if end is not None]
    return max(ends, default=None)


def by_cluster(
    conn: Connection, target: str, kind: str, clusters: Iterable[str]
) -> dict[str, Publication]:
    """``cluster -> publication`` for those of ``clusters`` that went out on
    ``target`` as ``kind``."""
    found: dict[str, int] = {}
    for chunk in chunked(dict.fromkeys(clusters)):
        stmt = select(publication_items.c.cluster, publication_items.c.publication_id).where(
            publication_items.c.target == target,
            publication_items.c.kind == kind,
            publication_items.c.cluster.in_(chunk),
        )
        found.update({cluster: pub_id for cluster, pub_id in conn.execute(stmt)})
    pubs = _publications(
        conn,
        conn.execute(select(publications).where(publications.c.id.in_(set(found.values())))),
    )
    by_id = {pub.id: pub for pub in pubs}
    return {cluster: by_id[pub_id] for cluster, pub_id in found.items()}


def copies(conn: Connection, target: str) -> dict[int, Publication]:
    """``site publication id -> its copy on target``."""
    stmt = select(publications).where(
        publications.c.target == target, publications.c.copy_of.is_not(None)
    )
    return {pub.copy_of: pub for pub in _publications(conn, conn.execute(stmt)) if pub.copy_of}


def pending(
    conn: Connection,
    target: str,
    kind: str,
    ids: Sequence[int] | None = None,
    period: tuple[datetime | None, datetime] | None = None,
) -> list[tuple[int, Clipping]]:
    """The entries still to go out on ``target`` as ``kind``: one ``(id,
    Clipping)`` per cluster with an approved or published member and not yet
    out there, cited as the module docstring says, oldest article first.
    With ``ids``, exactly those clippings (if live and not yet out).  With
    ``period`` ``(start, end)`` (start inclusive or ``None``, end
    exclusive), only clusters with a live member whose article date
    (``published_at``, else ``fetched_at``) falls in it; the entry is cited
    as without ``period``, so its own date may fall outside: the caller
    that wants entries dated in the period still checks each."""
    done = exists().where(
        publication_items.c.target == target,
        publication_items.c.kind == kind,
        publication_items.c.cluster == clippings.c.cluster,
    )
    condition = ~done
    if period is not None:
        condition = and_(condition, clippings.c.cluster.in_(_live_clusters_in(*period)))
    return _cited(conn, condition, ids)


def _live_clusters_in(start: datetime | None, end: datetime) -> Any:
    # One index range per branch and status, (status, published_at) and
    # (status, fetched_at) where undated: an OR of the two would let a
    # planner walk every live clipping instead.
    dated = [clippings.c.published_at < end]
    undated = [clippings.c.published_at.is_(None), clippings.c.fetched_at < end]
    if start is not None:
        dated.append(clippings.c.published_at >= start)
        undated.append(clippings.c.fetched_at >= start)
    live = clippings.c.status.in_(LIVE)
    return union(
        select(clippings.c.cluster).where(live, *dated),
        select(clippings.c.cluster).where(live, *undated),
    )


def cited(conn: Connection) -> list[tuple[int, Clipping]]:
    """One cited ``(id, Clipping)`` per cluster with an approved or
    published member, oldest article first."""
    return _cited(conn, None, None)


def _cited(
    conn: Connection, condition: Any, ids: Sequence[int] | None
) -> list[tuple[int, Clipping]]:
    stmt = select(clippings).where(clippings.c.status.in_(LIVE))
    if condition is not None:
        stmt = stmt.where(condition)
    if ids is not None:
        stmt = stmt.where(clippings.c.id.in_(list(ids)))
    stmt = stmt.order_by(
        clippings.c.published_at.is_(None), clippings.c.published_at, clippings.c.id
    )
    members: dict[str, list[tuple[int, Clipping]]] = {}
    for row in conn.execute(stmt):
        members.setdefault(row.cluster, []).append((row.id, from_row(row)))
    if ids is not None:
        return [group[0] for group in members.values()]
    chosen: dict[str, int] = {}
    for chunk in chunked(list(members)):
        stmt = select(cluster_citations.c.cluster, cluster_citations.c.clipping_id).where(
            cluster_citations.c.cluster.in_(chunk)
        )
        chosen.update({cluster: cid for cluster, cid in conn.execute(stmt)})
    return [
        next((m for m in group if m[0] == chosen.get(cluster)), group[0])
        for cluster, group in members.items()
    ]


def record(
    conn: Connection,
    *,
    kind: str,
    target: str,
    title: str,
    posted_at: datetime,
    items: Sequence[tuple[int, str]],
    now: datetime,
    period: tuple[datetime | None, datetime] | None = None,
    copy_of: int | None = None,
    remote: tuple[str, str, str | None] | None = None,
) -> int:
    """Store a publication of ``items`` (``(clipping id, cluster)`` pairs, in
    order) and return its id; `AlreadyPublished` if a cluster already went
    out on ``target`` as ``kind``.  ``remote`` is ``(remote_id, status,
    url)`` for a copy on another site."""
    if kind not in KINDS:
        raise ValueError(f"publication kind {kind!r} is not one of {KINDS}")
    taken = by_cluster(conn, target, kind, [cluster for _, cluster in items])
    if taken:
        raise AlreadyPublished(target, kind, sorted(taken))
    remote_id, remote_status, remote_url = remote or (None, None, None)
    pub_id = conn.execute(
        publications.insert()
        .values(
            kind=kind,
            target=target,
            title=title,
            posted_at=posted_at,
            period_start=period[0] if period else None,
            period_end=period[1] if period else None,
            copy_of=copy_of,
            remote_id=remote_id,
            remote_status=remote_status,
            remote_url=remote_url,
            created_at=now,
            updated_at=now,
        )
        .returning(publications.c.id)
    ).scalar_one()
    if items:
        conn.execute(
            publication_items.insert(),
            [
                {
                    "publication_id": pub_id,
                    "position": position,
                    "clipping_id": clipping_id,
                    "cluster": cluster,
                    "target": target,
                    "kind": kind,
                }
                for position, (clipping_id, cluster) in enumerate(items)
            ],
        )
    return int(pub_id)


def update_remote(
    conn: Connection,
    publication_id: int,
    now: datetime,
    *,
    status: str,
    url: str | None,
    copy_of: int | None = None,
) -> None:
    """Record a copy's new remote ``status`` and ``url`` (and the site
    record it now copies)."""
    values: dict[str, Any] = {"remote_status": status, "remote_url": url, "updated_at": now}
    if copy_of is not None:
        values["copy_of"] = copy_of
    conn.execute(update(publications).where(publications.c.id == publication_id).values(values))


def retitle_posts(conn: Connection, clipping_id: int, title: str, now: datetime) -> int:
    """Give every post of clipping ``clipping_id`` (the site's record and
    its copies; digests keep their own titles) the title ``title``, as after
    a correction of its headline; the number of posts changed.  A post
    copies its clipping's headline when it is recorded, so without this an
    edited headline would never reach the archive or the WXR export."""
    posts = select(publication_items.c.publication_id).where(
        publication_items.c.clipping_id == clipping_id, publication_items.c.kind == "post"
    )
    result = conn.execute(
        update(publications)
        .where(publications.c.id.in_(posts), publications.c.title != title)
        .values(title=title, updated_at=now)
    )
    return int(result.rowcount or 0)


def mark_posted(conn: Connection, posted: Sequence[tuple[int, datetime]], now: datetime) -> None:
    """Set each ``(clipping id, posted_at)``: status ``published``."""
    for clipping_id, posted_at in posted:
        conn.execute(
            update(clippings)
            .where(clippings.c.id == clipping_id)
            .values(status="published", posted_at=posted_at, updated_at=now)
        )
    copy_status_to_topics(conn, [clipping_id for clipping_id, _ in posted])


def mark_published(conn: Connection, ids: Iterable[int], now: datetime) -> None:
    """Status ``published`` for those of ``ids`` still ``approved`` (members
    of a digest; ``posted_at`` stays: they had no post of their own)."""
    for chunk in chunked(dict.fromkeys(ids)):
        conn.execute(
            update(clippings)
            .where(clippings.c.id.in_(chunk), clippings.c.status == "approved")
            .values(status="published", updated_at=now)
        )
        copy_status_to_topics(conn, chunk)


def clippings_by_id(conn: Connection, ids: Iterable[int]) -> dict[int, Clipping]:
    """``id -> Clipping`` for those of ``ids`` that exist."""
    found: dict[int, Clipping] = {}
    for chunk in chunked(dict.fromkeys(ids)):
        for row in conn.execute(select(clippings).where(clippings.c.id.in_(chunk))):
            found[row.id] = from_row(row)
    return found


def ids_by_url_hash(conn: Connection, hashes: Iterable[str]) -> dict[str, int]:
    """``url_hash -> clipping id`` for those of ``hashes`` that are stored."""
    found: dict[str, int] = {}
    for chunk in chunked(dict.fromkeys(hashes)):
        stmt = select(clippings.c.url_hash, clippings.c.id).where(clippings.c.url_hash.in_(chunk))
        found.update({url_hash: cid for url_hash, cid in conn.execute(stmt)})
    return found
