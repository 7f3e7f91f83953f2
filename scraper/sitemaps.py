"""Sitemaps: sitemap bodies read into entries, and the crawl's sitemap walk.

`read_sitemap` reads one body: a sitemap index (``<sitemapindex>``), a plain
sitemap (``<urlset>``) or a Google News sitemap (a ``<urlset>`` whose
``<url>`` elements carry ``news:news`` with ``news:publication_date`` and
``news:title``), gzip'd or not.  It never raises and never fetches: bytes go
in (Scrapy fetched them), a `ParsedSitemap` comes out, with ``error`` set for
a body that is no sitemap.  The XML is read by lxml with entity resolution
and network access off; a gzip'd body is inflated up to the response size
cap.

The round spider reads sitemap sources with it (`scraper.spiders.sitemaps`); so does
`scraper.discovery`.
"""

from __future__ import annotations

import io
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal
from urllib.parse import urljoin

from lxml import etree
from scrapy.utils.gz import gunzip

from config import Source
from scraper.dates import parse_date
from scraper.items import Clipping
from scraper.urls import canonical_url, is_http_url

logger = logging.getLogger(__name__)

#: Child sitemaps followed from one index; sitemaps.org allows 50,000, but a
#: news site's index grows by one a month or a day, and the dated ones past
#: the window are skipped anyway.
MAX_CHILDREN = 100
#: Index depth followed: an index of indexes at most (the protocol has none).
MAX_DEPTH = 2
#: Entries read from one sitemap (the protocol's own limit).
MAX_ENTRIES = 50_000

_GZIP_MAGIC = b"\x1f\x8b"
_WS = re.compile(r"\s+")


@dataclass(frozen=True, slots=True, kw_only=True)
class SitemapEntry:
    """One ``<url>`` or ``<sitemap>`` element.  Dates are timezone-aware
    (a date without an offset is taken as UTC); ``*_raw`` keep them as found."""

    loc: str
    """Absolute http(s) URL, resolved against the sitemap's URL."""
    lastmod: datetime | None = None
    lastmod_raw: str | None = None
    news_title: str | None = None
    """``news:title``, plain text on one line."""
    news_published: datetime | None = None
    news_published_raw: str | None = None

    @property
    def dated(self) -> datetime | None:
        """The date that places the entry in time: its news publication
        date, else its ``lastmod`` (the article cannot be older than that)."""
        return self.news_published or self.lastmod


@dataclass(frozen=True, slots=True, kw_only=True)
class ParsedSitemap:
    """What could be read from one sitemap body."""

    url: str
    kind: Literal["urlset", "sitemapindex"] | None = None
    """``None`` when the body is not a sitemap (then ``error`` says why)."""
    entries: list[SitemapEntry] = field(default_factory=list)
    news: bool = False
    """Whether any entry carries Google News markup."""
    error: str | None = None


def read_sitemap(body: bytes, *, url: str, max_size: int = 0) -> ParsedSitemap:
    """Read a sitemap body fetched from ``url``; never raises.

    A gzip body is inflated first, to at most ``max_size`` bytes (0: no
    cap).  Entries without a usable ``<loc>`` are skipped; at most
    `MAX_ENTRIES` are read.
    """
    if body[:2] == _GZIP_MAGIC:
        try:
            body = gunzip(body, max_size=max_size)
        except ValueError:  # inflated beyond max_size
            return ParsedSitemap(url=url, error=f"gzip body inflates beyond {max_size} bytes")
        except (OSError, EOFError) as exc:
            return ParsedSitemap(url=url, error=f"broken gzip body: {exc}")
    if not body.strip():
        return ParsedSitemap(url=url, error="empty body")
    try:
        return _parse(body, url)
    except (etree.XMLSyntaxError, ValueError) as exc:
        return ParsedSitemap(url=url, error=f"malformed XML: {exc}")


def _parse(body: bytes, url: str) -> ParsedSitemap:
    events = etree.iterparse(
        io.BytesIO(body),
        events=("start", "end"),
        recover=True,
        resolve_entities=False,
        no_network=True,
        remove_comments=True,
        remove_pis=True,
        huge_tree=False,
    )
    kind: str | None = None
    entries: list[SitemapEntry] = []
    news = False
    for event, element in events:
        name = _local(element)
        if kind is None:
            kind = name
            if kind not in ("urlset", "sitemapindex"):
                return ParsedSitemap(url=url, error=f"not a sitemap (root element <{kind}>)")
            continue
        if event != "end" or name not in ("url", "sitemap"):
            continue
        entry, has_news = _entry(element, url)
        news = news or has_news
        if entry is not None:
            entries.append(entry)
        # Free what has been read: a sitemap may hold 50,000 entries.
        element.clear()
        parent = element.getparent()
        while parent is not None and element.getprevious() is not None:
            del parent[0]
        if len(entries) >= MAX_ENTRIES:
            break
    if kind is None:
        return ParsedSitemap(url=url, error="not a sitemap (no XML element)")
    return ParsedSitemap(url=url, kind=kind, entries=entries, news=news)  # type: ignore[arg-type]


def _local(element: Any) -> str:
    tag = element.tag
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _text(element: Any) -> str | None:
    value = _WS.sub(" ", element.text or "").strip()
    return value or None


def _entry(element: Any, base: str) -> tuple[SitemapEntry | None, bool]:
    found: dict[str, str | None] = {}
    has_news = False
    for child in element:
        name = _local(child)
        if name in ("loc", "lastmod"):
            found.setdefault(name, _text(child))
        elif name == "news":
            has_news = True
            for item in child.iter():
                item_name = _local(item)
                if item_name in ("publication_date", "title"):
                    found.setdefault(f"news_{item_name}", _text(item))
    loc = found.get("loc")
    link = urljoin(base, loc) if loc else None
    if not link or not is_http_url(link):
        return None, has_news
    lastmod_raw, published_raw = found.get("lastmod"), found.get("news_publication_date")
    entry = SitemapEntry(
        loc=link,
        lastmod=parse_date(lastmod_raw),
        lastmod_raw=lastmod_raw,
        news_title=found.get("news_title"),
        news_published=parse_date(published_raw),
        news_published_raw=published_raw,
    )
    return entry, has_news


def base_clipping(entry: SitemapEntry, source: Source, sitemap_url: str) -> Clipping:
    """The base clipping of a sitemap entry: the news sitemap's title and
    date, marked as coming from the listing (``feed``); the page fills the
    rest and wins where it has its own."""
    return Clipping(
        url=entry.loc,
        source_id=source.id,
        outlet=source.outlet,
        entry_key=canonical_url(entry.loc),
        feed_url=sitemap_url,
        title=entry.news_title,
        title_from="feed" if entry.news_title else None,
        published_at=entry.news_published,
        published_raw=entry.news_published_raw,
        published_from="feed" if entry.news_published else None,
    )
