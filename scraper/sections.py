"""Section pages: an outlet's listing pages read into article links, and the
crawl's walk through them and their pagination.

`article_links` reads one listing page and returns the links that lead to
articles.  With a source's ``url_pattern`` an article link is any http(s)
link whose URL matches it.  Without one, a link is an article link when it:

* stays on the listing's site (same registrable domain; an IP address
  matches only itself) and is neither the listing page nor one above it;
* is no noise: not in the page's ``<nav>``, ``<header>``, ``<footer>`` or
  ``<aside>``; not a tag, author, category, topic, login, account, search,
  feed, share or pagination URL, nor a file (courlan's filters and
  `NOISE_SEGMENTS`);
* scores at least `ARTICLE_SCORE`: a date in its path (2), a slug of three
  words or more as its last segment (1), a numeric id of four digits or
  more (1), a path two segments deep or deeper (1), link text of four words
  or more (1).

Each link keeps the date the listing shows beside it (a ``<time
datetime>`` in the same list item or teaser), when there is exactly one.

`next_page` finds the following listing page: ``rel=next``, else a link
whose text says "next", "older" or "earlier" (or is an arrow), else a link
to the same URL with its page number (``?page=N``, ``/page/N/``) one higher.

The round spider reads section sources with it (`scraper.spiders.sections`); so does
`scraper.discovery`.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from courlan.filters import is_navigation_page, is_not_crawlable, type_filter
from parsel import Selector

from config import Source
from scraper.dates import parse_date
from scraper.items import Clipping
from scraper.urls import canonical_url, is_http_url, same_site

logger = logging.getLogger(__name__)

#: Score an unpatterned link needs to count as an article (see the module docstring).
ARTICLE_SCORE = 3

#: Path segments (lower-cased, extension dropped) that mark a link as no article.
NOISE_SEGMENTS = frozenset(
    {
        "tag", "tags", "author", "authors", "category", "categories", "topic", "topics",
        "section", "sections", "login", "logout", "signin", "sign-in", "signup", "sign-up",
        "register", "subscribe", "subscription", "account", "my-account", "profile", "user",
        "users", "search", "about", "about-us", "contact", "contact-us", "privacy", "terms",
        "cookies", "newsletter", "newsletters", "feed", "rss", "share", "print", "comments",
        "page", "archive", "archives", "wp-admin", "wp-login", "cart", "shop", "jobs",
    }
)  # fmt: skip
#: Query parameters that mark a link as navigation or an action.
NOISE_PARAMS = frozenset(
    {"page", "p", "pg", "paged", "s", "q", "query", "replytocom", "share", "print", "action"}
)
_NOISE_CONTAINERS = (
    "ancestor::*[self::nav or self::header or self::footer or self::aside"
    " or @role='navigation' or @role='banner' or @role='contentinfo']"
)

# /2026/, /2026/11/, /2026-11-20 ... and 20261120 as a path part.
_PATH_DATE = re.compile(
    r"(?:^|/)(?:19|20)\d{2}(?:[/-](?:0?[1-9]|1[0-2])(?:[/-]\d{1,2})?)?(?=[/\-_.]|$)"
)
_COMPACT_DATE = re.compile(
    r"(?:^|[/_-])(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:[0-2]\d|3[01])(?=[/_.-]|$)"
)
_NUMERIC_ID = re.compile(r"\d{4,}")
_WORD = re.compile(r"[^\W\d_]{2,}")
_NEXT_TEXT = re.compile(
    r"^(?:next|older|earlier)\b"
    r"|\b(?:next|older) (?:page|posts|entries|articles|news|releases|stories)\b"
    r"|^[›»→>]+$"
)
_PAGE_PATH = re.compile(r"/page/(\d+)/?$")
_PAGE_PARAMS = ("page", "p", "pg", "paged")
_EXTENSION = re.compile(r"\.[a-z0-9]{2,5}$")


@dataclass(frozen=True, slots=True)
class ListingLink:
    """An article link on a listing page."""

    url: str
    """Absolute http(s) URL, fragment removed."""
    text: str
    """The link's text on one line (the longest, when linked several times)."""
    dated: datetime | None = None
    """The date the listing shows beside the link, timezone-aware."""
    dated_raw: str | None = None


def article_links(
    page: Selector, page_url: str, *, pattern: str | None = None
) -> list[ListingLink]:
    """The article links of a listing page, in page order, each URL once."""
    compiled = re.compile(pattern) if pattern else None
    found: dict[str, ListingLink] = {}
    for anchor in page.css("a[href]"):
        url = _absolute(page_url, anchor.attrib.get("href", ""))
        if url is None:
            continue
        text = " ".join(" ".join(anchor.css("::text").getall()).split())
        if compiled is not None:
            if not compiled.search(url):
                continue
        elif anchor.xpath(_NOISE_CONTAINERS) or not is_article_url(url, page_url, text):
            continue
        previous = found.get(url)
        if previous is not None and len(previous.text) >= len(text):
            continue
        dated_raw = _date_beside(anchor, url, page_url)
        found[url] = ListingLink(url, text, parse_date(dated_raw), dated_raw)
    return list(found.values())


def is_article_url(url: str, page_url: str, text: str = "") -> bool:
    """Whether ``url``, linked from the listing page ``page_url`` with link
    text ``text``, looks like an article (see the module docstring)."""
    if not same_site(url, page_url) or is_noise(url):
        return False
    path = urlsplit(url).path
    listing = urlsplit(page_url).path
    if path.rstrip("/") == "" or listing.startswith(path.rstrip("/") + "/") or path == listing:
        return False
    return article_score(url, text) >= ARTICLE_SCORE


def article_score(url: str, text: str = "") -> int:
    """Points for each sign that ``url`` names an article (see the module docstring)."""
    path = urlsplit(url).path
    segments = [s for s in path.lower().split("/") if s]
    last = _EXTENSION.sub("", segments[-1]) if segments else ""
    score = 0
    if _PATH_DATE.search(path) or _COMPACT_DATE.search(path):
        score += 2
    if len(_WORD.findall(last.replace("-", " ").replace("_", " "))) >= 3:
        score += 1
    if _NUMERIC_ID.search(last) or any(_NUMERIC_ID.fullmatch(v) for _, v in _query(url)):
        score += 1
    if len(segments) >= 2:
        score += 1
    if len(text.split()) >= 4:
        score += 1
    return score


def is_noise(url: str) -> bool:
    """Whether ``url`` is navigation, an account page, a feed, a share link
    or a file rather than an article."""
    if is_navigation_page(url) or is_not_crawlable(url) or not type_filter(url, strict=True):
        return True
    segments = {_EXTENSION.sub("", s) for s in urlsplit(url).path.lower().split("/") if s}
    if segments & NOISE_SEGMENTS:
        return True
    return any(name.lower() in NOISE_PARAMS for name, _ in _query(url))


def next_page(page: Selector, page_url: str, number: int) -> str | None:
    """URL of the listing page after ``page`` (page ``number``, counted from
    1), on the same site; ``None`` when there is none."""
    candidates = page.css("link[rel~=next]::attr(href), a[rel~=next]::attr(href)").getall()
    for anchor in page.css("a[href]"):
        attrs = anchor.attrib
        label = " ".join(
            [*anchor.css("::text").getall(), attrs.get("aria-label", ""), attrs.get("title", "")]
        )
        if _NEXT_TEXT.search(" ".join(label.lower().split())):
            candidates.append(anchor.attrib["href"])
    numbered = _numbered(page_url, number + 1)
    hrefs = page.css("a::attr(href)").getall()
    candidates += [h for h in hrefs if _absolute(page_url, h) in numbered]
    for href in candidates:
        url = _absolute(page_url, href)
        if url is not None and url != _absolute(page_url, "") and same_site(url, page_url):
            return url
    return None


def _numbered(page_url: str, number: int) -> set[str]:
    """``page_url`` with its page number set to ``number``, in the usual spellings."""
    parts = urlsplit(page_url)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    query = [(k, v) for k, v in pairs if k not in _PAGE_PARAMS]
    out = set()
    for name in _PAGE_PARAMS:
        paged = urlencode([*query, (name, str(number))])
        out.add(urlunsplit(parts._replace(query=paged, fragment="")))
    base = _PAGE_PATH.sub("/", parts.path)
    for path in (f"{base.rstrip('/')}/page/{number}/", f"{base.rstrip('/')}/page/{number}"):
        out.add(urlunsplit(parts._replace(path=path, fragment="")))
    return out


def _absolute(page_url: str, href: str) -> str | None:
    url = urljoin(page_url, href.strip()).split("#", 1)[0]
    return url if is_http_url(url) else None


def _query(url: str) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(url).query, keep_blank_values=True)


def _date_beside(anchor: Selector, url: str, page_url: str) -> str | None:
    """The ``datetime`` of the one ``<time>`` in the nearest enclosing
    element (up to four levels up) that has one, when every other link in
    that element is noise (a tag, an author); else ``None``."""
    for ancestor in anchor.xpath("ancestor::*[position() <= 4]")[::-1]:
        times = ancestor.css("time[datetime]::attr(datetime)").getall()
        if not times:
            continue
        hrefs = {_absolute(page_url, h) for h in ancestor.css("a::attr(href)").getall()}
        others = {h for h in hrefs if h is not None and h != url and not is_noise(h)}
        return times[0] if len(times) == 1 and not others else None
    return None


def base_clipping(link: ListingLink, source: Source, page_url: str) -> Clipping:
    """The base clipping of a listing link, with the listing's date marked
    as coming from the listing (``feed``); the page wins where it has its own."""
    return Clipping(
        url=link.url,
        source_id=source.id,
        outlet=source.outlet,
        entry_key=canonical_url(link.url),
        feed_url=page_url,
        published_at=link.dated,
        published_raw=link.dated_raw if link.dated else None,
        published_from="feed" if link.dated else None,
    )
