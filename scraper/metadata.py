"""A page's own metadata: JSON-LD, OpenGraph and ``<meta>`` tags.

`read_metadata` walks a parsed lxml tree once, read-only, and returns a
`PageMetadata`: for each field (title, authors, published date, language,
site name) every candidate found, in document order within each kind of
source, each tagged with its provenance and the key it was read from.
Choosing among them is the caller's business (`scraper.extract`).

Provenance values are those of `scraper.items.PROVENANCES`:

* ``json-ld``: ``<script type="application/ld+json">`` nodes of an article
  type (`ARTICLE_TYPES`), found at the top level, in lists, in ``@graph``
  and under ``mainEntity``; author references by ``@id`` are resolved;
* ``opengraph``: ``og:*`` and ``article:*`` properties;
* ``meta``: named ``<meta>`` tags (``author``, ``dc.date``, ``parsely-*``,
  ``sailthru.*``, ...), microdata ``itemprop`` values, the ``parsely-page``
  JSON blob, and the document language (``<html lang>``,
  ``Content-Language``).

Values are kept as found, stripped of surrounding white space and of tags
that some sites put inside attributes; dates stay strings.  Broken JSON is
repaired where cheaply possible (trailing commas, HTML comments, several
objects in one script) and otherwise skipped: reading never raises on page
content.
"""

# Longer than ~300 lines on purpose: JSON-LD, OpenGraph and <meta> are read in
# one walk of the tree, and their key tables belong beside that walk.

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from lxml.html import HtmlElement

from scraper.text import clean_text, prose_text

#: JSON-LD ``@type`` values (lower-cased) whose node describes the article itself.
ARTICLE_TYPES = frozenset({
    "article", "newsarticle", "blogposting", "reportagenewsarticle", "analysisnewsarticle",
    "opinionnewsarticle", "reviewnewsarticle", "backgroundnewsarticle", "askpublicnewsarticle",
    "satiricalarticle", "liveblogposting", "socialmediaposting", "scholarlyarticle", "report",
    "techarticle",
})  # fmt: skip

# <meta name=...> keys, lower-cased, by field.
_META_AUTHOR = frozenset({
    "author", "authors", "byl", "dc.creator", "dcterms.creator", "dc.creator.name",
    "sailthru.author", "parsely-author", "article.author", "article:author_name",
    "citation_author", "cxenseparse:author", "analytics-author",
})  # fmt: skip
_META_DATE = frozenset({
    "date", "pubdate", "publishdate", "publish-date", "publish_date", "publication_date",
    "published_time", "dc.date", "dc.date.issued", "dc.date.created", "dcterms.date",
    "dcterms.issued", "dcterms.created", "sailthru.date", "parsely-pub-date",
    "article.published", "article_date_original", "originalpublicationdate",
    "citation_publication_date", "citation_date", "cxenseparse:recs:publishtime",
})  # fmt: skip
_META_TITLE = frozenset({
    "parsely-title", "sailthru.title", "dc.title", "dcterms.title", "citation_title",
    "twitter:title",
})  # fmt: skip
_META_LANGUAGE = frozenset({"language", "dc.language", "dcterms.language", "content-language"})
_META_SITE = frozenset(
    {"application-name", "publisher", "dc.publisher", "cxenseparse:recs:publisher"}
)
# OpenGraph-style properties, lower-cased.
_OG_AUTHOR = frozenset({"article:author", "og:article:author", "book:author"})
_OG_DATE = frozenset({"article:published_time", "og:article:published_time", "og:published_time"})

_TAGS = re.compile(r"<[^>]{0,200}>")
_WS = re.compile(r"\s+")
_TRAILING_COMMA = re.compile(r",\s*([}\]])")
#: At most this many ``<h1>`` texts are kept.
MAX_HEADINGS = 10
#: At most this many ``<time datetime>`` values are kept.
MAX_TIMES = 10
_MAX_SCRIPT = 2_000_000  # characters; larger "JSON-LD" is an app state dump, not metadata
_MAX_NODES = 5_000  # JSON nodes visited per page
_MAX_VALUE = 500  # characters; longer "titles" and "names" are body text in the wrong place


@dataclass(frozen=True, slots=True)
class Candidate:
    """One value for a field: ``value`` as found (trimmed), ``source`` its
    provenance (``json-ld``, ``opengraph`` or ``meta``), ``key`` what it was
    read from (``"NewsArticle.headline"``, ``"og:title"``, ``"name=author"``),
    ``kind`` the JSON-LD ``@type`` of an author object when there is one
    (``"Person"``, ``"Organization"``)."""

    value: str
    source: str
    key: str
    kind: str | None = None


@dataclass(slots=True)
class PageMetadata:
    """All candidates found on a page, per field, JSON-LD first, then
    OpenGraph, then meta tags; within a source in document order."""

    titles: list[Candidate] = field(default_factory=list)
    authors: list[Candidate] = field(default_factory=list)
    published: list[Candidate] = field(default_factory=list)
    languages: list[Candidate] = field(default_factory=list)
    site_names: list[Candidate] = field(default_factory=list)
    headings: list[str] = field(default_factory=list)
    """Text of the page's ``<h1>`` elements (at most `MAX_HEADINGS`), in
    document order: evidence for trimming site names off titles."""
    times: list[Candidate] = field(default_factory=list)
    """``datetime`` of the page's other ``<time>`` elements (at most
    `MAX_TIMES`), in document order: the page's own dates, and the offset
    the site writes them in."""
    article_types: list[str] = field(default_factory=list)
    """``@type`` of every JSON-LD article node, in document order."""
    descriptions: list[Candidate] = field(default_factory=list)
    """The page's own summary: JSON-LD ``description``, ``og:description``,
    ``<meta name=description>``."""
    bodies: list[str] = field(default_factory=list)
    """The JSON-LD article nodes' ``articleBody``, as plain text, one
    paragraph a line."""

    def first(self, name: str, source: str | None = None) -> Candidate | None:
        """The first candidate of field ``name`` (optionally from ``source``)."""
        for candidate in getattr(self, name):
            if source is None or candidate.source == source:
                return candidate
        return None


def clean_value(value: Any) -> str | None:
    """A metadata value as one trimmed line of text, or ``None`` when empty
    or not a string (numbers, objects)."""
    if not isinstance(value, str):
        return None
    # JSON-LD may hold a lone surrogate or a NUL as a valid escape.
    value = clean_text(value)
    if "<" in value:
        value = _TAGS.sub(" ", value)
    if "&" in value:
        # Entities escaped twice ("&amp;#039;") are common in JSON-LD.
        value = html.unescape(html.unescape(value))
    value = _WS.sub(" ", value).strip()
    return value[:_MAX_VALUE] if value else None


def read_metadata(tree: HtmlElement) -> PageMetadata:
    """Read every candidate from ``tree`` without modifying it."""
    meta = PageMetadata()
    jsonld: list[Any] = []
    opengraph = PageMetadata()
    title: str | None = None
    for element in tree.iter("script", "meta", "time", "h1", "title", "html"):
        tag = element.tag
        if tag == "h1":
            if len(meta.headings) < MAX_HEADINGS:
                heading = clean_value(element.text_content())
                if heading:
                    meta.headings.append(heading)
        elif tag == "script":
            kind = (element.get("type") or "").strip().lower()
            if kind == "application/ld+json" and element.text:
                jsonld.extend(parse_json(element.text))
        elif tag == "meta":
            _read_meta_tag(element, meta, opengraph)
        elif tag == "title":
            # Inline SVG has <title> elements too; only the document's counts.
            parent = element.getparent()
            if title is None and parent is not None and parent.tag == "head":
                title = element.text_content()
        elif tag == "time":
            if (element.get("itemprop") or "").lower() in ("datepublished", "datecreated"):
                _add(meta.published, element.get("datetime"), "meta", "itemprop=datePublished")
            elif len(meta.times) < MAX_TIMES:
                _add(meta.times, element.get("datetime"), "meta", "time@datetime")
        else:
            _add(
                meta.languages, element.get("lang") or element.get("xml:lang"), "meta", "html@lang"
            )
    # The <title> element is the last resort among titles.
    _add(meta.titles, title, "meta", "title")
    article = PageMetadata()
    _read_jsonld(jsonld, article)
    for name in ("titles", "authors", "published", "languages", "site_names", "descriptions"):
        merged = getattr(article, name) + getattr(opengraph, name) + getattr(meta, name)
        setattr(meta, name, merged)
    meta.article_types = article.article_types
    meta.bodies = article.bodies
    return meta


def parse_json(text: str) -> list[Any]:
    """Every JSON value in a script's text, repaired where cheaply possible;
    ``[]`` when nothing can be read."""
    if len(text) > _MAX_SCRIPT:
        return []
    text = text.strip()
    for wrapper in ("<!--", "//<![CDATA[", "<![CDATA["):
        if text.startswith(wrapper):
            text = text[len(wrapper) :]
    for wrapper in ("-->", "//]]>", "]]>"):
        if text.endswith(wrapper):
            text = text[: -len(wrapper)]
    text = text.strip().rstrip(";")
    for attempt in (text, _TRAILING_COMMA.sub(r"\1", text)):
        values = _decode_all(attempt)
        if values:
            return values
    return []


def _decode_all(text: str) -> list[Any]:
    # Several objects back to back in one script are common on CMS pages.
    decoder = json.JSONDecoder(strict=False)
    values: list[Any] = []
    position = 0
    try:
        while position < len(text):
            value, position = decoder.raw_decode(text, position)
            values.append(value)
            while position < len(text) and text[position] in " \t\r\n,;":
                position += 1
    except (ValueError, RecursionError):
        pass
    return values


def _add(
    bucket: list[Candidate], value: Any, source: str, key: str, kind: str | None = None
) -> None:
    text = clean_value(value)
    if text is not None:
        bucket.append(Candidate(text, source, key, kind))


def _read_meta_tag(element: HtmlElement, meta: PageMetadata, opengraph: PageMetadata) -> None:
    content = element.get("content")
    if content is None:
        return
    prop = (element.get("property") or "").strip().lower()
    name = (element.get("name") or "").strip().lower()
    itemprop = (element.get("itemprop") or "").strip().lower()
    equiv = (element.get("http-equiv") or "").strip().lower()
    og = prop or (name if name.startswith(("og:", "article:")) else "")
    if og:
        if og == "og:title":
            _add(opengraph.titles, content, "opengraph", og)
        elif og in _OG_AUTHOR:
            # Profile URLs say who, but not by what name.
            if not content.strip().lower().startswith(("http:", "https:", "//")):
                _add(opengraph.authors, content, "opengraph", og)
        elif og in _OG_DATE:
            _add(opengraph.published, content, "opengraph", og)
        elif og == "og:locale":
            _add(opengraph.languages, content, "opengraph", og)
        elif og == "og:site_name":
            _add(opengraph.site_names, content, "opengraph", og)
        elif og == "og:description":
            _add(opengraph.descriptions, content, "opengraph", og)
        if not name:
            return
    key = f"name={name}"
    if name in _META_AUTHOR:
        _add(meta.authors, content, "meta", key)
    elif name in _META_DATE:
        _add(meta.published, content, "meta", key)
    elif name in _META_TITLE:
        _add(meta.titles, content, "meta", key)
    elif name in _META_LANGUAGE:
        _add(meta.languages, content, "meta", key)
    elif name in _META_SITE:
        _add(meta.site_names, content, "meta", key)
    elif name in ("description", "twitter:description"):
        _add(meta.descriptions, content, "meta", key)
    elif name == "parsely-page":
        for blob in parse_json(content):
            if isinstance(blob, dict):
                _add(meta.titles, blob.get("title"), "meta", "parsely-page.title")
                _add(meta.published, blob.get("pub_date"), "meta", "parsely-page.pub_date")
                for author in _as_list(blob.get("authors") or blob.get("author")):
                    _add(meta.authors, author, "meta", "parsely-page.authors")
    elif equiv == "content-language":
        _add(meta.languages, content, "meta", "http-equiv=content-language")
    elif itemprop == "headline":
        _add(meta.titles, content, "meta", "itemprop=headline")
    elif itemprop in ("datepublished", "datecreated"):
        _add(meta.published, content, "meta", "itemprop=datePublished")
    elif itemprop == "author":
        _add(meta.authors, content, "meta", "itemprop=author")


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _types(node: dict[str, Any]) -> list[str]:
    return [t for t in _as_list(node.get("@type")) if isinstance(t, str)]


def _walk(values: list[Any]) -> Iterator[dict[str, Any]]:
    """Every dict in ``values``, breadth-first, bounded in size; iterative so
    that absurd nesting cannot exhaust the stack."""
    queue = list(values)
    seen = 0
    while queue and seen < _MAX_NODES:
        node = queue.pop(0)
        seen += 1
        if isinstance(node, list):
            queue.extend(node)
        elif isinstance(node, dict):
            yield node
            for key in ("@graph", "mainEntity", "mainEntityOfPage", "itemListElement", "hasPart"):
                child = node.get(key)
                if isinstance(child, dict | list):
                    queue.append(child)


def _read_jsonld(values: list[Any], out: PageMetadata) -> None:
    nodes = list(_walk(values))
    by_id = {n["@id"]: n for n in nodes if isinstance(n.get("@id"), str)}
    for node in nodes:
        types = _types(node)
        article_type = next((t for t in types if t.lower() in ARTICLE_TYPES), None)
        if article_type is None:
            continue
        out.article_types.append(article_type)
        _add(out.titles, node.get("headline"), "json-ld", f"{article_type}.headline")
        _add(out.titles, node.get("name"), "json-ld", f"{article_type}.name")
        _add(out.published, node.get("datePublished"), "json-ld", f"{article_type}.datePublished")
        _add(out.published, node.get("dateCreated"), "json-ld", f"{article_type}.dateCreated")
        _add(out.languages, node.get("inLanguage"), "json-ld", f"{article_type}.inLanguage")
        _add(out.descriptions, node.get("description"), "json-ld", f"{article_type}.description")
        body = node.get("articleBody")
        if isinstance(body, str) and len(body) <= _MAX_SCRIPT:
            text = prose_text(body, markup="<" in body or "&" in body)
            if text:
                out.bodies.append(text)
        for key in ("author", "creator"):
            for author in _as_list(node.get(key)):
                _read_author(author, by_id, out, f"{article_type}.{key}")
        for publisher in _as_list(node.get("publisher")):
            if isinstance(publisher, dict):
                publisher = (
                    by_id.get(publisher.get("@id"), publisher) if "@id" in publisher else publisher
                )
                _add(out.site_names, publisher.get("name"), "json-ld", f"{article_type}.publisher")


def _read_author(author: Any, by_id: dict[str, Any], out: PageMetadata, key: str) -> None:
    if isinstance(author, str):
        _add(out.authors, author, "json-ld", key)
        return
    if not isinstance(author, dict):
        return
    if "name" not in author and isinstance(author.get("@id"), str):
        author = by_id.get(author["@id"], author)
    kind = next(iter(_types(author)), None)
    name = author.get("name")
    if isinstance(name, dict):
        name = name.get("@value") or name.get("name")
    if isinstance(name, list):
        for part in name:
            _add(out.authors, part, "json-ld", key, kind)
        return
    if not isinstance(name, str) or not name.strip():
        given, family = author.get("givenName"), author.get("familyName")
        if isinstance(given, str) and isinstance(family, str):
            name = f"{given} {family}"
    _add(out.authors, name, "json-ld", key, kind)


_LANGUAGE = re.compile(r"^([a-zA-Z]{2})(?:[-_][a-zA-Z0-9]{1,8})*$")


def language_code(raw: str | None) -> str | None:
    """The ISO 639-1 code in a language tag ("de-AT", "en_US", "FR"), or
    ``None`` when the tag does not start with one."""
    if not raw:
        return None
    match = _LANGUAGE.match(raw.strip().split(",")[0].strip())
    return match[1].lower() if match else None
