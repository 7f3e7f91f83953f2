"""Feeds: RSS 0.9x/1.0/2.0 and Atom bodies read into plain entries.

`parse_feed` hands the bytes Scrapy fetched to feedparser, which never
fetches anything itself, and turns its result into a `ParsedFeed` of
`FeedEntry` values: plain text instead of HTML, absolute http(s) links only,
timezone-aware dates, and an ``entry_key`` per entry.

Parsing annotates rather than raises: a broken feed gives whatever entries
could be read, ``bozo`` set and a readable ``error``; a truncated body gives
the entries completed before the cut.  Entities declared in a DOCTYPE are
never expanded recursively nor read from outside the document (see
`scraper.feed_safety`), and feedparser's XML reader has external entities
turned off.
"""

# Longer than ~300 lines on purpose: one feed format's reading (links, dates,
# entry keys, text) in one place; each part is a small function.

from __future__ import annotations

import calendar
import hashlib
import io
import re
import time
import xml.sax
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from xml.parsers.expat import errors as expat_errors

import feedparser
from w3lib.html import remove_comments, replace_entities, replace_tags
from w3lib.url import safe_url_string

from scraper.feed_safety import defused
from scraper.items import Clipping
from scraper.text import clean_text, prose_text
from scraper.urls import is_http_url

#: Dates before this year are placeholders ("0000-00-00", the Unix epoch).
MIN_YEAR = 1990
#: Dates further ahead than this are clock or time-zone mistakes.
MAX_FUTURE = timedelta(days=2)

_HTML_TYPES = ("text/html", "application/xhtml+xml")
#: feedparser's notices about a body it still read in full: served with a
#: non-XML media type, or declared in one encoding and decoded in another.
_NOTICES = (feedparser.NonXMLContentType, feedparser.CharacterEncodingOverride)
#: expat's messages for a document that ends before its root element closes.
_CUT_SHORT = {
    expat_errors.XML_ERROR_NO_ELEMENTS,
    expat_errors.XML_ERROR_UNCLOSED_TOKEN,
    expat_errors.XML_ERROR_PARTIAL_CHAR,
    expat_errors.XML_ERROR_UNCLOSED_CDATA_SECTION,
}
_ENTRY_END = re.compile(r"</(?:[\w.-]+:)?(?:item|entry)\s*>", re.IGNORECASE)


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedEntry:
    """One entry of a feed, every string valid Unicode (no lone surrogates,
    no control characters) and every text field plain text."""

    entry_key: str
    """Identity of the entry within its source: the GUID as feedparser
    reports it (a relative permalink GUID resolved against the feed URL), else
    ``link``, else the SHA-1 hex digest of ``title`` and ``summary``."""
    link: str | None
    """Absolute http(s) URL of the article, resolved against ``xml:base`` and
    the feed URL; ``None`` when missing or of another scheme (``javascript:``,
    ``mailto:``)."""
    feed_url: str
    """URL of the feed the entry was read from."""
    guid: str | None = None
    """The GUID or Atom id, when the entry has one."""
    title: str | None = None
    """Title as plain text on one line: tags stripped, entities decoded."""
    authors: list[str] = field(default_factory=list)
    """Author strings as found ("jane@example.com (Jane Roe)"), in feed order,
    each once."""
    published_raw: str | None = None
    """The entry's date string as found: published, else updated, else
    created."""
    published_at: datetime | None = None
    """``published_raw`` as an aware UTC datetime; ``None`` when it cannot be
    parsed, is before `MIN_YEAR`, or is more than `MAX_FUTURE` ahead."""
    summary: str | None = None
    """Summary (else first content) as plain text on one line."""
    content: str | None = None
    """The entry's full content (``content:encoded``, Atom ``content``) as
    plain text, one paragraph a line; ``None`` when it has none."""
    language: str | None = None
    """ISO 639-1 code of the entry's language, else of the feed's."""

    def to_clipping(self, source_id: str | None, outlet: str | None) -> Clipping:
        """A new `Clipping` for the entry's article, with the feed's values
        marked ``*_from="feed"``.  Its ``text`` is the entry's full content
        (``text_from="feed"``), else its summary (``"feed-summary"``): the
        last resorts of the page's text (`scraper.extract`).

        Raises `ValueError` when the entry has no http(s) ``link``.
        """
        if self.link is None:
            raise ValueError(f"feed entry {self.entry_key!r} has no http(s) link")
        return Clipping(
            url=self.link,
            source_id=source_id,
            outlet=outlet,
            entry_key=self.entry_key,
            feed_url=self.feed_url,
            title=self.title,
            title_from="feed" if self.title else None,
            authors=list(self.authors),
            authors_raw="; ".join(self.authors) or None,
            authors_from="feed" if self.authors else None,
            published_at=self.published_at,
            published_raw=self.published_raw,
            published_from="feed" if self.published_raw else None,
            language=self.language,
            language_from="feed" if self.language else None,
            text=self.content or self.summary or "",
            text_from="feed" if self.content else "feed-summary" if self.summary else None,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ParsedFeed:
    """What could be read from one feed body."""

    url: str
    """The feed URL the body was fetched from (the base for relative links)."""
    title: str | None = None
    """Feed title as plain text."""
    link: str | None = None
    """The feed's home page, absolute http(s), when given."""
    language: str | None = None
    """ISO 639-1 code of the feed's language, when declared."""
    version: str | None = None
    """feedparser's format name ("rss20", "rss10", "atom10", ...), ``None``
    when the body is not recognisably a feed."""
    entries: list[FeedEntry] = field(default_factory=list)
    """Entries in feed order."""
    bozo: bool = False
    """feedparser's flag: something about the body was off.  Also set for
    mere notices (a non-XML media type, a wrong declared encoding) that leave
    the body fully read; those leave ``error`` unset."""
    error: str | None = None
    """Why the body could not be read in full, or is not a feed at all;
    ``None`` when it was read in full."""


def body_hash(body: bytes) -> str:
    """SHA-1 hex digest of a response body, to spot an unchanged feed."""
    return hashlib.sha1(body).hexdigest()


def parse_feed(body: bytes, *, url: str, headers: Mapping[str, str] | None = None) -> ParsedFeed:
    """Parse a fetched feed body; never raises, never fetches.

    ``url`` is the URL the body came from: relative links resolve against it
    (and against ``xml:base``).  ``headers`` are the response headers; their
    ``Content-Type`` charset is honoured.  A ``Content-Location`` header is
    ignored (HTTP no longer makes it a base URI, RFC 7231 appendix B).
    """
    response_headers = {k.lower(): v for k, v in (headers or {}).items() if v}
    # Without a media type feedparser would assume ISO-8859-1 once any header
    # is given; application/xml gets the XML defaults (declaration, BOM, then
    # UTF-8), as if no headers had been given at all.
    response_headers.setdefault("content-type", "application/xml")
    response_headers["content-location"] = url
    if not body:
        return ParsedFeed(url=url, bozo=True, error="empty body")
    try:
        # A file object, never bytes or str: feedparser reads a str that
        # looks like a URL over the network and opens bytes or str naming an
        # existing path as a local file.
        result = feedparser.parse(io.BytesIO(defused(body)), response_headers=response_headers)
        return _read(result, body, url)
    except Exception as exc:  # a hostile body must not end the crawl round
        return ParsedFeed(url=url, bozo=True, error=clean_text(f"feed parser failed: {exc!r}"))


def _read(result: Any, body: bytes, url: str) -> ParsedFeed:
    feed = result.get("feed") or {}
    feed_language = _language(_get(feed, "language"))
    entries = [_entry(raw, url, feed_language) for raw in result.get("entries") or []]
    exc = result.get("bozo_exception") if result.get("bozo") else None
    if isinstance(exc, xml.sax.SAXParseException) and exc.getMessage() in _CUT_SHORT:
        # The loose parser also returns the entry the body was cut inside,
        # with a truncated title or link: keep only the closed ones.
        entries = entries[: _closed_entries(body, result.get("encoding"))]
    version = result.get("version") or None
    error = None if exc is None or isinstance(exc, _NOTICES) else _describe(exc)
    if version is None and not entries and (exc is not None or not feed):
        error = "not an RSS or Atom feed" + (f" ({_describe(exc)})" if exc else "")
    return ParsedFeed(
        url=url,
        title=_text(feed, "title"),
        link=_link(_get(feed, "link")),
        language=feed_language,
        version=version,
        entries=entries,
        bozo=bool(result.get("bozo")),
        error=error,
    )


def _entry(raw: Any, feed_url: str, feed_language: str | None) -> FeedEntry:
    guid = _one_line(_get(raw, "id"))
    link = _entry_link(raw)
    title = _text(raw, "title")
    summary = _text(raw, "summary")
    if summary is None and _get(raw, "content"):
        summary = _plain(raw["content"][0].get("value", ""), raw["content"][0].get("type"))
    published_raw, published_at = _date(raw)
    key = guid or link or _content_key(title, summary)
    return FeedEntry(
        entry_key=key,
        link=link,
        feed_url=feed_url,
        guid=guid,
        title=title,
        authors=_authors(raw),
        published_raw=published_raw,
        published_at=published_at,
        summary=summary,
        content=_content(raw),
        language=_entry_language(raw) or feed_language,
    )


def _content(raw: Any) -> str | None:
    """The entry's full content, every content element joined."""
    parts = []
    for item in _get(raw, "content") or []:
        value = item.get("value") if isinstance(item, dict) else None
        if isinstance(value, str):
            parts.append(prose_text(value, markup=item.get("type") in _HTML_TYPES))
    return "\n".join(p for p in parts if p) or None


def _get(raw: dict[str, Any], key: str) -> Any:
    # dict.get rather than raw.get: FeedParserDict answers for aliases
    # ("updated" for "published") and warns when it does.
    return dict.get(raw, key)


def _content_key(title: str | None, summary: str | None) -> str:
    # The newline keeps ("ab", "c") and ("a", "bc") apart.
    return hashlib.sha1(f"{title or ''}\n{summary or ''}".encode()).hexdigest()


def _closed_entries(body: bytes, encoding: str | None) -> int:
    """How many item or entry elements are closed in the body."""
    try:
        text = body.decode(encoding or "utf-8", "replace")
    except LookupError:
        text = body.decode("utf-8", "replace")
    return len(_ENTRY_END.findall(text))


def _one_line(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    return " ".join(clean_text(value).split()) or None


def _plain(value: str, content_type: str | None) -> str | None:
    """Plain text on one line from a feed text construct, ``None`` if empty."""
    if content_type in _HTML_TYPES:
        # Tags become spaces so that "<p>a</p><p>b</p>" stays two words.
        value = replace_entities(replace_tags(remove_comments(value), " "))
    return " ".join(clean_text(value).split()) or None


def _text(parent: dict[str, Any], name: str) -> str | None:
    value = _get(parent, name)
    if not isinstance(value, str):
        return None
    detail = _get(parent, f"{name}_detail") or {}
    return _plain(value, detail.get("type"))


def _link(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    # Escape spaces and non-ASCII characters the way a browser would.
    link = safe_url_string(value.strip())
    return link if is_http_url(link) else None


def _entry_link(raw: dict[str, Any]) -> str | None:
    # The first alternate link: feedparser 6 lets a later ``<link>`` with
    # text content (an enclosure, say) replace it as ``link``.
    for candidate in _get(raw, "links") or []:
        link = _link(candidate.get("href"))
        if link and candidate.get("rel", "alternate") == "alternate":
            return link
    return _link(_get(raw, "link"))


def _authors(raw: dict[str, Any]) -> list[str]:
    details = list(_get(raw, "authors") or [])
    found = [a.get("name") or a.get("email") for a in details]
    author = _get(raw, "author")
    if isinstance(author, str) and len(details) <= 1:
        name, email = (details[0].get("name"), details[0].get("email")) if details else ("", "")
        # feedparser splits an RSS "jane@example.com (Jane Roe)" into name and
        # e-mail and keeps the string as found in ``author``; for Atom it
        # builds ``author`` as "name (email)" from the elements instead.
        if not (name and email and author == f"{name} ({email})"):
            found = [author]
    names: list[str] = []
    for name in map(_one_line, found):
        if name and name not in names:
            names.append(name)
    return names


def _date(raw: dict[str, Any]) -> tuple[str | None, datetime | None]:
    for name in ("published", "updated", "created"):
        value = _get(raw, name)
        if isinstance(value, str) and value.strip():
            return clean_text(value).strip(), _aware(_get(raw, f"{name}_parsed"))
    return None, None


def _aware(parsed: time.struct_time | None) -> datetime | None:
    """feedparser's UTC struct as an aware datetime, ``None`` if implausible."""
    if parsed is None:
        return None
    try:
        # timegm rolls a leap second (tm_sec == 60) over into the next minute.
        moment = datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)
    except (OverflowError, OSError, ValueError, TypeError):
        return None
    if moment.year < MIN_YEAR or moment > datetime.now(UTC) + MAX_FUTURE:
        return None
    return moment


def _language(tag: Any) -> str | None:
    """ISO 639-1 primary subtag of a language tag ("en-GB" -> "en")."""
    if not isinstance(tag, str):
        return None
    primary = tag.strip().replace("_", "-").split("-")[0].lower()
    return primary if len(primary) == 2 and primary.isascii() and primary.isalpha() else None


def _entry_language(raw: dict[str, Any]) -> str | None:
    details = [_get(raw, "title_detail"), _get(raw, "summary_detail")]
    details += list(_get(raw, "content") or [])
    for detail in details:
        if detail and (language := _language(detail.get("language"))):
            return language
    return None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, xml.sax.SAXParseException):
        return clean_text(f"malformed XML: {exc.getMessage()}")
    if isinstance(exc, feedparser.CharacterEncodingUnknown):
        return clean_text(f"unknown character encoding: {exc}")
    return clean_text(f"{type(exc).__name__}: {exc}")
