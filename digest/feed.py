"""The Atom feed of approved clippings, written with feedgen.

One entry per syndication cluster with an approved or published member (its
cited clipping), newest first, at most ``[publishing] feed_entries``:

* ``id``: ``urn:uuid:`` of a UUID5 of the cluster key, stable whatever
  outlet the cluster is cited by later;
* ``title``: the post's headline; ``link``: the article; ``summary`` (plain
  text, escaped by the XML writer): the byline and the excerpt;
* ``author``: each author; ``category``: each topic;
* ``published``: the article date; ``updated``: the post date, else the
  article date, else when the clipping was fetched.

Every string goes through `digest.text.xml_text` first: a control character
stored in a clipping is dropped, never a reason for the feed to fail.  The
feed's ``updated`` is its newest entry's (the epoch for an empty feed),
never the clock: the same stored data writes the same bytes.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from feedgen.feed import FeedGenerator

from digest.entries import entry
from digest.render import Renderer, safe_url
from digest.text import xml_text
from scraper.items import Clipping
from scraper.text import clean_text

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _urn(key: str) -> str:
    # A lone surrogate cannot be encoded for the hash: dropped first.
    return uuid.uuid5(uuid.NAMESPACE_URL, f"presscut:{clean_text(key)}").urn


def entry_updated(clipping: Clipping) -> datetime:
    """When an entry last changed for its readers (see the module docstring)."""
    return clipping.posted_at or clipping.published_at or clipping.fetched_at or _EPOCH


def atom_feed(renderer: Renderer, clippings: Sequence[tuple[int, Clipping]]) -> bytes:
    """The Atom document (UTF-8 bytes) for ``clippings``, ``(id, Clipping)``
    pairs in any order."""
    publication = renderer.settings.publication
    limit = renderer.settings.publishing.feed_entries
    ordered = sorted(clippings, key=lambda pair: (entry_updated(pair[1]), pair[0]), reverse=True)
    ordered = ordered[:limit]
    feed = FeedGenerator()
    feed.id(_urn(f"feed:{publication.url or publication.name}"))
    name = xml_text(publication.name) or "presscut"
    feed.title(name)
    feed.subtitle(xml_text(publication.description) or f"Clippings selected by {name}")
    if publication.url:
        feed.link(href=publication.url, rel="alternate")
    feed.language("en")
    # Atom wants an author on every entry; the feed's stands in for those without.
    feed.author(name=name)
    feed.updated(max((entry_updated(c) for _, c in ordered), default=_EPOCH))
    for clipping_id, clipping in ordered:
        item = entry(clipping_id, clipping)
        fe = feed.add_entry(order="append")
        fe.id(_urn(f"cluster:{item.cluster}"))
        link = safe_url(item.url)
        # Atom requires a title: a headline of control characters alone
        # falls back to the title, then to the link.
        fe.title(xml_text(item.headline) or xml_text(item.title) or link or "untitled")
        byline = xml_text(renderer.byline(item))
        excerpt = xml_text(item.excerpt)
        summary = f"{byline}:… {excerpt}" if byline else excerpt
        if link:
            fe.link(href=link, rel="alternate")
        else:
            # Atom wants an alternate link or content: a clipping whose URL
            # cannot be linked carries its summary as content.
            fe.content(summary, type="text")
        fe.summary(summary)
        for author in filter(None, map(xml_text, item.authors)):
            fe.author(name=author)
        for topic in filter(None, map(xml_text, item.topics)):
            fe.category(term=topic)
        if clipping.published_at:
            fe.published(clipping.published_at)
        fe.updated(entry_updated(clipping))
    return bytes(feed.atom_str(pretty=True))
