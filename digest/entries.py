"""What templates see: a clipping as cited in a post (`Entry`) and a post,
digest or archive item (`Post`).

Built from stored clippings and publications; plain immutable values, text
still unescaped (escaping is the templates' business, per format).  An
entry's ``url`` is the clipping's canonical URL (tracking parameters
stripped), else the URL it was fetched from.  An
entry's ``credit`` is who is credited before the outlet: the authors ("Alice
Taylor", "Alice Taylor and Bob Roe", "A, B and C"), prefixed by the relay
when there is one ("Iran Interlink from Asieh Namdar"); empty when the piece
is the outlet's own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from scraper.items import Clipping
from storage.publishing import Publication

#: Heading of a topic group holding clippings without a topic.
NO_TOPIC = "other"


@dataclass(frozen=True, slots=True)
class Entry:
    """One clipping as a post or digest cites it."""

    id: int
    headline: str
    title: str
    url: str
    credit: str
    authors: tuple[str, ...]
    via: str | None
    outlet: str | None
    published_at: datetime | None
    excerpt: str
    paraphrased: bool
    topics: tuple[str, ...]
    matched_terms: tuple[str, ...]
    cluster: str


@dataclass(frozen=True, slots=True)
class Post:
    """A post (one entry), a digest (its entries, optionally grouped by
    topic as ``(topic, entries)`` pairs) or, in the archive, either."""

    kind: str
    title: str
    posted_at: datetime | None
    entries: tuple[Entry, ...]
    id: int | None = None
    period_start: datetime | None = None
    period_end: datetime | None = None
    groups: tuple[tuple[str, tuple[Entry, ...]], ...] = field(default=())


def credit(authors: Sequence[str], via: str | None) -> str:
    """The credit line before the outlet (see the module docstring)."""
    names = [a for a in authors if a]
    people = ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else "".join(names)
    if via and people:
        return f"{via} from {people}"
    return via or people


def entry(clipping_id: int, clipping: Clipping) -> Entry:
    """The `Entry` of a stored clipping."""
    title = clipping.title or clipping.headline or clipping.url
    return Entry(
        id=clipping_id,
        headline=clipping.headline or title,
        title=title,
        # The stored canonical form: no utm_* or other tracking parameters.
        url=clipping.canonical_url or clipping.url,
        credit=credit(clipping.authors, clipping.via),
        authors=tuple(clipping.authors),
        via=clipping.via,
        outlet=clipping.outlet,
        published_at=clipping.published_at,
        excerpt=clipping.excerpt or "",
        paraphrased=clipping.excerpt_paraphrased,
        topics=tuple(clipping.topics),
        matched_terms=tuple(clipping.matched_terms),
        cluster=clipping.cluster or clipping.url_hash or clipping.url,
    )


def newest_first(entries: Iterable[Entry]) -> tuple[Entry, ...]:
    """By article date, newest first (undated last), then newest id."""
    ordered = sorted(entries, key=lambda e: e.id, reverse=True)
    dated = [(e.published_at, e) for e in ordered if e.published_at is not None]
    # sorted() is stable: equal dates keep the newest id first.
    dated.sort(key=lambda pair: pair[0], reverse=True)
    return (*(e for _, e in dated), *(e for e in ordered if e.published_at is None))


def by_topic(
    entries: Sequence[Entry], topic_order: Sequence[str]
) -> tuple[tuple[str, tuple[Entry, ...]], ...]:
    """Entries grouped under their first topic, newest first within a group;
    groups in ``topic_order`` (the configured topics), then other topics
    alphabetically, then `NO_TOPIC`.  Each entry appears once."""
    groups: dict[str, list[Entry]] = {}
    for item in entries:
        groups.setdefault(item.topics[0] if item.topics else NO_TOPIC, []).append(item)
    rank = {name: i for i, name in enumerate(topic_order)}

    def key(name: str) -> tuple[int, int, str]:
        return (name == NO_TOPIC, rank.get(name, len(rank)), name)

    return tuple((name, newest_first(groups[name])) for name in sorted(groups, key=key))


def post_of(publication: Publication, clippings: Mapping[int, Clipping]) -> Post:
    """The `Post` of a stored publication (a digest keeps its stored order)."""
    entries = tuple(entry(i, clippings[i]) for i in publication.items if i in clippings)
    return Post(
        kind=publication.kind,
        title=publication.title,
        posted_at=publication.posted_at,
        entries=entries,
        id=publication.id,
        period_start=publication.period_start,
        period_end=publication.period_end,
    )


def single_post(clipping_id: int, clipping: Clipping) -> Post:
    """The post of one clipping, published or not (a preview then)."""
    item = entry(clipping_id, clipping)
    return Post(kind="post", title=item.headline, posted_at=clipping.posted_at, entries=(item,))
