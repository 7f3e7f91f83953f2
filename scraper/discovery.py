"""Discovery: what a site offers to watch, checked and proposed as sources.

`scraper.spiders.discover.DiscoverySpider` starts from a site's homepage and
fetches, through the crawl's own Scrapy stack (robots.txt, User-Agent,
limits):

* the homepage: the outlet's name (`outlet_name`), its language, the feeds
  it announces (``<link rel=alternate>``, read by trafilatura's
  ``determine_feed``), and the same-site links that may be section pages
  (`section_candidates`); the homepage itself is a section candidate too;
* ``/robots.txt``: its ``Sitemap:`` lines (trafilatura's
  ``extract_robots_sitemaps``);
* only when the site announces none: the usual feed paths (`FEED_PATHS`)
  and sitemap paths (`SITEMAP_PATHS`).

Every candidate is fetched and checked (`check_feed`, `check_sitemap`,
`check_section`): it must answer, parse and list items; a sitemap or
section must also have a dated item younger than `RECENT`, and a section
must be a listing, never a single article page.  A feed that parses is
proposed even when quiet (a monthly magazine, an NGO's press releases): it
is the best source a site has.  `Discovery.proposals` then keeps the good
ones, ranked feed > news sitemap > sitemap > section (a section whose
article links another proposed section already has is left out), and
`render` prints them as ``[[sources]]`` blocks for ``sources.toml``, the
outlet named as the site names itself, a quiet feed with its newest date.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit

import scrapy
from parsel import Selector
from scrapy.http import Response
from trafilatura.sitemaps import GUESSES

from scraper.feeds import parse_feed
from scraper.metadata import parse_json
from scraper.sections import ARTICLE_SCORE, article_links, article_score, is_noise
from scraper.sitemaps import read_sitemap
from scraper.urls import is_http_url, same_site

Kind = Literal["feed", "sitemap", "section"]

#: A candidate whose newest dated item is older than this is stale.
RECENT = timedelta(days=30)
#: Article links a listing page needs to count as a section.
MIN_SECTION_LINKS = 3
#: Section candidates fetched besides the homepage.
MAX_SECTIONS = 6
#: Tried only when the homepage announces no feed.
FEED_PATHS = ("/feed", "/feed/", "/rss", "/rss.xml", "/feed.xml", "/atom.xml", "/index.xml")
#: Tried only when robots.txt names no sitemap (trafilatura's guesses and
#: the usual names of news sitemaps).
SITEMAP_PATHS = (*(f"/{g}" for g in GUESSES), "/news-sitemap.xml", "/sitemap-news.xml")
#: Poll intervals proposed per kind (a news sitemap like a feed).
POLL = {"feed": "30m", "news-sitemap": "30m", "sitemap": "2h", "section": "1h"}

_SITE_TYPES = {"website", "organization", "newsmediaorganization", "governmentorganization"}
_ARTICLE_TYPES = {
    "article", "newsarticle", "reportagenewsarticle", "analysisnewsarticle", "blogposting",
    "opinionnewsarticle", "reviewnewsarticle", "backgroundnewsarticle",
}  # fmt: skip
_GENERIC_TITLES = {"home", "homepage", "home page", "start", "welcome", "index", "startseite"}
_TITLE_SPLIT = re.compile(r"\s+[|–—·•»:-]\s+")


@dataclass
class Candidate:
    """A possible source and what checking it found."""

    kind: Kind
    url: str
    found_by: str
    ok: bool = False
    """It answered, parsed and lists items."""
    stale: bool = False
    """Its newest dated item is older than `RECENT`."""
    items: int = 0
    newest: datetime | None = None
    detail: str = ""
    """What it is ("RSS 2.0 feed", "Google News sitemap", "listing page")."""
    error: str | None = None
    news: bool = False
    links: frozenset[str] = frozenset()
    """Article links of a section, to leave out sections that repeat another."""


@dataclass
class Discovery:
    """Everything found on one site."""

    home: str
    outlet: str | None = None
    language: str | None = None
    error: str | None = None
    candidates: dict[str, Candidate] = field(default_factory=dict)

    def add(self, candidate: Candidate) -> bool:
        """Record ``candidate`` unless its URL is known; whether it was new."""
        if candidate.url in self.candidates:
            return False
        self.candidates[candidate.url] = candidate
        return True

    def proposals(self) -> list[Candidate]:
        """The good candidates (`proposable`): feeds, then news sitemaps, then
        other sitemaps, then sections (those with most article links first,
        none repeating another's links)."""
        good = [c for c in self.candidates.values() if proposable(c)]
        feeds = [c for c in good if c.kind == "feed"]
        news = [c for c in good if c.kind == "sitemap" and c.news]
        sitemaps = [c for c in good if c.kind == "sitemap" and not c.news]
        sections: list[Candidate] = []
        for c in sorted((c for c in good if c.kind == "section"), key=lambda c: -c.items):
            if not any(c.links <= kept.links for kept in sections):
                sections.append(c)
        return feeds + news + sitemaps + sections


def proposable(candidate: Candidate) -> bool:
    """Whether a checked candidate is proposed: it answered, parsed and
    lists items, and is recent unless it is a feed (a quiet feed still is)."""
    return candidate.ok and (not candidate.stale or candidate.kind == "feed")


def is_recent(newest: datetime | None, now: datetime | None = None) -> bool:
    """Whether a candidate's newest item (``None``: undated) is recent enough."""
    return newest is None or newest >= (now or datetime.now(UTC)) - RECENT


def _verdict(candidate: Candidate, nothing: str) -> Candidate:
    candidate.ok = candidate.items > 0
    candidate.stale = candidate.ok and not is_recent(candidate.newest)
    if not candidate.ok:
        candidate.error = nothing
    elif candidate.stale:
        candidate.error = f"nothing recent: newest item {candidate.newest:%Y-%m-%d}"
    return candidate


def check_feed(candidate: Candidate, response: Response) -> Candidate:
    """Whether ``response`` is a feed with recent entries."""
    content_type = (response.headers.get("Content-Type") or b"").decode("latin-1")
    feed = parse_feed(response.body, url=response.url, headers={"content-type": content_type})
    dates = [e.published_at for e in feed.entries if e.published_at]
    candidate.items, candidate.newest = len(feed.entries), max(dates, default=None)
    names = {"rss20": "RSS 2.0", "rss10": "RSS 1.0", "atom10": "Atom"}
    candidate.detail = f"{names.get(feed.version or '', feed.version or 'unknown')} feed"
    return _verdict(candidate, feed.error or "no entries")


def check_sitemap(candidate: Candidate, response: Response, max_size: int = 0) -> Candidate:
    """Whether ``response`` is a sitemap listing recent URLs or sitemaps."""
    doc = read_sitemap(response.body, url=response.url, max_size=max_size)
    dates = [e.dated for e in doc.entries if e.dated]
    candidate.items, candidate.newest, candidate.news = (
        len(doc.entries),
        max(dates, default=None),
        doc.news,
    )
    if doc.kind == "sitemapindex":
        candidate.detail = f"sitemap index of {len(doc.entries)} sitemaps"
    else:
        candidate.detail = "Google News sitemap" if doc.news else "sitemap"
    return _verdict(candidate, doc.error or "no entries")


def check_section(candidate: Candidate, response: Response) -> Candidate:
    """Whether ``response`` is a listing page with enough article links; a
    single article page never is, whatever it links to."""
    if not isinstance(response, scrapy.http.HtmlResponse):
        candidate.error = "not an HTML page"
        return candidate
    page = Selector(text=response.text)
    if is_article_page(page, response.url):
        candidate.error = "a single article page, not a listing"
        return candidate
    links = article_links(page, response.url)
    dates = [link.dated for link in links if link.dated]
    candidate.items, candidate.newest = len(links), max(dates, default=None)
    candidate.links = frozenset(link.url for link in links)
    candidate.detail = "listing page"
    if 0 < len(links) < MIN_SECTION_LINKS:
        candidate.items = 0
    return _verdict(candidate, f"fewer than {MIN_SECTION_LINKS} article links")


def is_article_page(page: Selector, url: str) -> bool:
    """Whether ``page`` is one article: ``og:type`` article, a top-level
    JSON-LD article, or an address shaped like an article's."""
    if (page.css('meta[property="og:type"]::attr(content)').get() or "").strip() == "article":
        return True
    for script in page.css('script[type="application/ld+json"]::text').getall():
        for node in parse_json(script):
            for item in node if isinstance(node, list) else [node]:
                kind = item.get("@type") if isinstance(item, dict) else None
                kinds = kind if isinstance(kind, list) else [kind]
                if {str(k).lower() for k in kinds} & _ARTICLE_TYPES:
                    return True
    return article_score(url) >= ARTICLE_SCORE


def outlet_name(page: Selector, url: str) -> str:
    """The site's name for itself: ``og:site_name``, else the name of a
    JSON-LD WebSite or Organization (or an article's publisher), else the
    ``application-name`` meta tag, else the ``<title>`` without generic parts
    ("Home | ..."), else the host name."""
    for query in ('meta[property="og:site_name"]::attr(content)',):
        if name := _clean(page.css(query).get()):
            return name
    for script in page.css('script[type="application/ld+json"]::text').getall():
        for node in _nodes(parse_json(script)):
            types = node.get("@type")
            types = [types] if isinstance(types, str) else types if isinstance(types, list) else []
            if {str(t).lower() for t in types} & _SITE_TYPES and (
                name := _clean(node.get("name"))
            ):
                return name
            publisher = node.get("publisher")
            if isinstance(publisher, dict) and (name := _clean(publisher.get("name"))):
                return name
    if name := _clean(page.css('meta[name="application-name"]::attr(content)').get()):
        return name
    parts = [_clean(p) for p in _TITLE_SPLIT.split(page.css("title::text").get() or "")]
    named = [p for p in parts if p and p.lower() not in _GENERIC_TITLES]
    return named[0] if named else (urlsplit(url).hostname or url)


def section_candidates(page: Selector, home: str) -> list[str]:
    """Same-site links of the homepage that may be listing pages: not
    articles, not noise, one or two path segments deep, no query."""
    found: list[str] = []
    for href in page.css("a::attr(href)").getall():
        url = urljoin(home, href.strip()).split("#", 1)[0]
        parts = urlsplit(url)
        depth = len([s for s in parts.path.split("/") if s])
        if (
            not is_http_url(url)
            or not same_site(url, home)
            or parts.query
            or not 1 <= depth <= 2
            or url in found
            or is_noise(url)
            or article_score(url) >= ARTICLE_SCORE
        ):
            continue
        found.append(url)
    return found[:MAX_SECTIONS]


def _clean(value: Any) -> str | None:
    return " ".join(value.split()) or None if isinstance(value, str) else None


def _nodes(values: list[Any]) -> Iterator[dict[str, Any]]:
    for value in values:
        if isinstance(value, list):
            yield from _nodes(value)
        elif isinstance(value, dict):
            yield value
            yield from _nodes(list(value.get("@graph") or []))


def slug(text: str) -> str:
    """A source id made from a name: lower-case ASCII words joined by "-"."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())
    if words[:1] == ["the"] and len(words) > 1:
        words = words[1:]
    return "-".join(words)[:48].strip("-") or "site"


def render(found: Discovery, now: datetime | None = None) -> str:
    """The proposals as ``sources.toml`` text: a comment per candidate and a
    ``[[sources]]`` block per proposal; the whole is valid TOML."""
    now = now or datetime.now(UTC)
    outlet = found.outlet or urlsplit(found.home).hostname or found.home
    lines = [
        f"# {outlet} ({found.home}), discovered {now:%Y-%m-%d %H:%M} UTC.",
        "# Paste the blocks you want into sources.toml and give each its topics.",
    ]
    if found.error:
        lines.append(f"# {found.error}")
    base, used = slug(outlet), set()
    for candidate in found.proposals():
        label = "news-sitemap" if candidate.news else candidate.kind
        ident = f"{base}-{label}"
        if candidate.kind == "section":
            path = urlsplit(candidate.url).path.strip("/")
            ident = f"{base}-{slug(path.replace('/', ' ')) if path else 'home'}"
        while ident in used:
            ident += "-2"
        used.add(ident)
        newest = f", newest {candidate.newest:%Y-%m-%d}" if candidate.newest else ""
        if candidate.stale:
            newest += f" (quiet: nothing in the last {RECENT.days} days)"
        unit = "article links" if candidate.kind == "section" else "items"
        lines += [
            "",
            f"# {candidate.detail}, {candidate.items} {unit}{newest} ({candidate.found_by})",
            "[[sources]]",
            f"id = {_string(ident)}",
            f"outlet = {_string(outlet)}",
            f"kind = {_string(candidate.kind)}",
            f"url = {_string(candidate.url)}",
        ]
        if found.language:
            lines.append(f"language = {_string(found.language)}")
        lines += [f'poll_interval = "{POLL[label]}"', 'since = "7d"', "# topics = []"]
    rejected = [c for c in found.candidates.values() if not proposable(c)]
    if rejected:
        lines += ["", "# Not proposed:"]
        lines += [f"#   {c.kind} {c.url}: {c.error or 'no answer'}" for c in rejected]
    return "\n".join(lines) + "\n"


def _string(value: str) -> str:
    # A JSON string is a valid TOML basic string.
    return json.dumps(value, ensure_ascii=False)
