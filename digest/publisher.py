"""Publishing on the publication's own record: clipping posts and digests.

What goes out is recorded in storage (`storage.publishing`), so running a
command again publishes nothing new:

* `publish_posts` posts each approved cluster once (its cited clipping),
  dated ``posted_at`` given, else the clipping's planned ``posted_at``
  (a back-dated import), else now;
* `make_digest` gathers the approved or published clusters whose article
  date (``published_at``, else ``fetched_at``) falls in the period and that
  are in no digest yet, in the configured order; a digest already recorded
  for exactly that period is returned as it was, so rendering it again
  reproduces the same output;
* `sweep_digest` is the default digest: every story waiting for one
  (`digest.selection.waiting`, by approval, whatever its article date),
  titled by the span of its article dates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from digest.entries import Entry, Post, by_topic, entry, newest_first, post_of
from digest.render import Renderer
from digest.selection import Waiting, article_date, waiting
from scraper.items import Clipping
from storage import Store
from storage.publishing import LIVE, SITE, Publication


class PublishError(ValueError):
    """A publishing request that cannot be met; the message says why."""


@dataclass(frozen=True, slots=True)
class DigestResult:
    """The digest for a period and whether this call created it."""

    publication: Publication
    created: bool


__all__ = ["DigestResult", "PublishError", "article_date", "make_digest", "sweep_digest"]


def publish_posts(
    store: Store,
    now: datetime,
    ids: Sequence[int] | None = None,
    posted_at: datetime | None = None,
) -> list[tuple[int, Clipping, datetime]]:
    """Post approved clusters (all pending, or exactly ``ids``); returns
    ``(id, clipping, posted_at)`` of each new post, oldest article first.
    `PublishError` for an id that cannot be posted (then nothing is)."""
    pending = store.pending_entries(SITE, "post", ids)
    if ids is not None:
        _explain_missing(store, ids, {i for i, _ in pending})
    posts = [(i, c, posted_at or c.posted_at or now) for i, c in pending]
    if posts:
        store.record_posts(posts)
    return posts


def _explain_missing(store: Store, ids: Sequence[int], found: set[int]) -> None:
    missing = [i for i in dict.fromkeys(ids) if i not in found]
    if not missing:
        return
    known = store.clippings_by_id(missing)
    reasons = []
    for clipping_id in missing:
        clipping = known.get(clipping_id)
        if clipping is None:
            reasons.append(f"{clipping_id}: no such clipping")
        elif clipping.status not in LIVE:
            reasons.append(f"{clipping_id}: {clipping.status}, not approved")
        else:
            reasons.append(f"{clipping_id}: its story was already posted")
    raise PublishError("cannot post " + "; ".join(reasons))


def make_digest(
    store: Store,
    renderer: Renderer,
    *,
    start: datetime | None,
    end: datetime,
    posted_at: datetime,
    topic_order: Sequence[str] = (),
    record: bool = True,
) -> DigestResult | None:
    """The digest of ``[start, end)`` (see the module docstring); ``None``
    when there is none and nothing to gather.  With ``record=False`` a new
    digest is only previewed: it gets id 0 and nothing is stored."""
    existing = store.digest_for_period(start, end)
    if existing is not None:
        return DigestResult(existing, created=False)
    chosen = []
    for clipping_id, clipping in store.pending_entries(SITE, "digest", period=(start, end)):
        when = article_date(clipping)
        if when is None or when >= end or (start is not None and when < start):
            continue
        chosen.append(entry(clipping_id, clipping))
    if not chosen:
        return None
    return _digest(
        store,
        renderer,
        chosen,
        title=renderer.digest_title(end),
        period=(start, end),
        posted_at=posted_at,
        topic_order=topic_order,
        record=record,
    )


def sweep_digest(
    store: Store,
    renderer: Renderer,
    *,
    now: datetime,
    posted_at: datetime,
    topic_order: Sequence[str] = (),
    record: bool = True,
) -> tuple[DigestResult | None, Waiting]:
    """The digest of every story waiting for one, and that selection.

    Titled by the span of the stories' article dates ("… Digest – November
    01, 2026 to November 07, 2026"); its recorded period runs from the
    oldest article to ``now`` (or just past the newest, if that is later).
    ``None`` with an empty selection when nothing waits."""
    selection = waiting(store)
    if not selection.entries or selection.first is None or selection.last is None:
        return None, selection
    end = max(now, selection.last + timedelta(seconds=1))
    result = _digest(
        store,
        renderer,
        [entry(i, c) for i, c in selection.entries],
        title=renderer.span_title(selection.first, selection.last),
        period=(selection.first, end),
        posted_at=posted_at,
        topic_order=topic_order,
        record=record,
    )
    return result, selection


def _digest(
    store: Store,
    renderer: Renderer,
    chosen: list[Entry],
    *,
    title: str,
    period: tuple[datetime | None, datetime],
    posted_at: datetime,
    topic_order: Sequence[str],
    record: bool,
) -> DigestResult:
    if renderer.settings.publishing.digest_order == "topic":
        ordered = [e for _, group in by_topic(chosen, topic_order) for e in group]
    else:
        ordered = list(newest_first(chosen))
    items = [(e.id, e.cluster) for e in ordered]
    if not record:
        preview = Publication(
            id=0,
            kind="digest",
            target=SITE,
            title=title,
            posted_at=posted_at,
            items=tuple(i for i, _ in items),
            period_start=period[0],
            period_end=period[1],
        )
        return DigestResult(preview, created=False)
    pub_id = store.record_publication(
        kind="digest",
        target=SITE,
        title=title,
        posted_at=posted_at,
        items=items,
        period=period,
    )
    publication = store.publication(pub_id)
    assert publication is not None
    return DigestResult(publication, created=True)


def posts_of(store: Store, publications: Sequence[Publication]) -> list[Post]:
    """The `Post` of each publication, clippings loaded in one query."""
    ids = {i for pub in publications for i in pub.items}
    clippings = store.clippings_by_id(ids)
    return [post_of(pub, clippings) for pub in publications]


def archive_posts(store: Store, since: datetime | None = None) -> list[Post]:
    """Posts and digests on the site, newest first, posted at or after ``since``."""
    return posts_of(store, store.publications(SITE, since=since))
