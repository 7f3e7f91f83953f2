"""Article extraction: page bytes to the extracted fields of a `Clipping`.

`extract_article` parses the page once (`parse_page`: trafilatura's
``load_html``, charset detection, repair of broken markup), reads the page's
own metadata from the tree (`scraper.metadata`), then runs
``trafilatura.bare_extraction`` on a copy of the same tree for the main text
and trafilatura's own metadata reading (`extract_tree`, for a caller that
reads the tree further).  It is a pure, top-level function, so a
``ProcessPoolExecutor`` can run it.

How each field is chosen (orders measured on the article corpus, see
``docs/benchmarks.md``; ``*_from`` names the source of the value kept):

* ``title``: the JSON-LD article ``headline``, unless only trafilatura's
  title (mostly ``og:title``, often a shorter social-media line) is what the
  page's ``<h1>`` shows; else trafilatura's title, else any page title, else
  the feed's.  When an ``<h1>`` or the feed title is the same title without a
  trailing " | Site" part or a leading "Section | " part, that shorter form
  is kept; else a leading or trailing part naming the site (its
  ``og:site_name``, publisher, outlet or host name) is cut off
  (`without_site_name`).
* ``authors``: the JSON-LD article's ``author`` entries that are persons (or
  untyped), else author markup in the page body (``rel=author``, hCard,
  microdata: `scraper.bylines`), else trafilatura's byline (it also reads
  bylines in the page body), else OpenGraph/meta bylines, else byline
  elements known by their class only, else the feed's; each cleaned by
  `scraper.authors.parse_byline` (outlet, site and host names discarded).
  ``authors_raw`` is that source's byline as found, several entries joined
  with ``"; "``; ``credit`` the wire agencies a byline credits beside them.
* ``published_at``: the first readable JSON-LD, then OpenGraph, then meta
  date; then the feed's; then trafilatura's guess (htmldate, a heuristic;
  htmldate itself when trafilatura found no text); then a ``/YYYY/MM/DD/``
  date in the URL.  Values before 1990 or more than two days ahead are
  ignored; a value without offset is taken as UTC.  A time of day written
  in UTC is shown in the offset the page's other dates are written in
  (`site_offset`), so that it falls on the site's own calendar day.
* ``language``: ``<html lang>``, JSON-LD ``inLanguage``, ``Content-Language``,
  ``og:locale``, then the feed's; as an ISO 639-1 code.
* ``text``: a chain of readings, the first with at least `MIN_TEXT_WORDS`
  words winning (else the longest found), one paragraph a line, no blank
  lines; ``text_from`` names the winner: trafilatura's main text
  (``trafilatura``, read with ``favor_precision``; when that has fewer
  words than `PRECISION_SHARE` of the page's prose paragraphs, its default
  reading is tried next, also ``trafilatura``), its recall mode
  (``trafilatura-recall``, more of the page taken as text), the JSON-LD
  ``articleBody`` (``json-ld``), the feed entry's full content (``feed``)
  or its summary (``feed-summary``), the page's description (``json-ld``,
  ``opengraph`` or ``meta``).  A later reading is only computed when the
  earlier ones fall short.

Every candidate of title, authors and date, with its provenance, and the
confidence of each pick are kept in ``candidates``, the doubtful fields in
``doubts`` (`scraper.credits`).

The feed entry fills gaps rather than overruling the page: the corpus the
orders were measured on has no feed entries, and a page's structured
metadata is as machine-readable as a feed's.  The feed's date does rank
above trafilatura's guess, which is a heuristic.

Failure contract: a page that is no HTML document at all (empty, larger
than `MAX_PAGE_BYTES`, binary, unparseable) raises `ExtractionError`; an
HTML page with no readable article gives a `Clipping` with ``text == ""``
and whatever metadata the page has.  Nothing else is raised for any input.
"""

# Longer than ~300 lines on purpose: one parse of a page and every rule for
# choosing between its metadata and the extractor's reading stay together.

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Collection
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, TypeVar
from urllib.parse import urljoin

from htmldate import find_date
from lxml.html import HtmlElement
from trafilatura import bare_extraction
from trafilatura.settings import Document
from trafilatura.utils import load_html

from scraper import credits
from scraper.authors import agency_credit, fold, host_label, merge_names, parse_byline
from scraper.bylines import read_bylines
from scraper.dates import parse_date
from scraper.errors import ExtractionError
from scraper.items import Clipping
from scraper.metadata import Candidate, PageMetadata, language_code, read_metadata
from scraper.text import clean_fields

#: A text of fewer words is not the whole article: the next reading of the
#: text chain is tried (and a clipping with less is flagged ``short_text``).
MIN_TEXT_WORDS = 40

#: A precision reading with fewer words than this share of the page's prose
#: paragraphs (`prose_words`) cut the article short: the default reading is
#: tried next.  Measured on the article corpus (``docs/benchmarks.md``).
PRECISION_SHARE = 0.3
_PROSE_PARAGRAPH = 8

#: Larger pages are refused (trafilatura's own default cap).
MAX_PAGE_BYTES = 20_000_000

_EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
_WS = re.compile(r"[^\S\n]+")
# Separators between a headline and a site or section name in <title>.
_TITLE_SEPARATORS = "|-–—·•»›*⋆~:：｜"
# A date string that states its offset ("+02:00", "-0500"), not "Z".
_HAS_OFFSET = re.compile(r"T?\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s?[+-]\d{2}:?\d{2}\b")
# A separator between a title and a site name, spaced or not (CJK titles).
_SITE_PART = re.compile(r"(\s+[|\-–—·•»:~]\s+|\s*[|｜–—•»]\s*|(?<=\S)-(?=\S*$))")
# A date that starts with its numeric year, month and day, or epoch seconds.
_NUMERIC_DATE = re.compile(r"^\s*(?:\d{4}-?\d{1,2}-?\d{1,2}|\d{10}(?:\d{3})?$)")
# A time of day stated in UTC ("T23:00:00.000Z", "02:41:00 GMT", "+0000"):
# not a bare date, whose midnight is no instant.
_UTC_TIME = re.compile(
    r"\d{1,2}:\d{1,2}(?::\d{1,2}(?:\.\d+)?)?\s?(?:Z|[+-]00:?00|GMT|UTC)\s*$", re.IGNORECASE
)
# A date as a path segment run: /2019/12/09/ or /2019-12-09.
_URL_DATE = re.compile(
    r"/((?:19|20)\d{2})[/-](0[1-9]|1[0-2])[/-](0[1-9]|[12]\d|3[01])(?=[/\-_.]|$)"
)


# A numeric reference to a C0 control but tab, newline and CR: decimal 0-8,
# 11, 12, 14-31 or hex 0-8, b, c, e, f, 10-1f, the ";" optional as in HTML.
_CONTROL_REFERENCE_PATTERN = (
    r"&#(?:[xX]0*(?:[0-8bBcCeEfF]|1[0-9a-fA-F])(?![0-9a-fA-F])"
    r"|0*(?:[0-8]|1[124-9]|2[0-9]|3[01])(?![0-9]));?"
)
_CONTROL_REFERENCE = re.compile(_CONTROL_REFERENCE_PATTERN)
_CONTROL_REFERENCE_BYTES = re.compile(_CONTROL_REFERENCE_PATTERN.encode())
_Markup = TypeVar("_Markup", bytes, str)


def extract_article(html: bytes | str, url: str, *, base: Clipping | None = None) -> Clipping:
    """Extract the article in ``html``, fetched from ``url``.

    ``base`` is the clipping built from the feed entry: its non-extraction
    fields (``source_id``, ``outlet``, ``entry_key``, ...) are kept and its
    ``title``/``authors``/``published_*``/``language`` fill gaps (see the
    module docstring).  Raises `ExtractionError` only for non-HTML input.
    """
    return extract_tree(parse_page(html), url, base=base)


def parse_page(html: bytes | str) -> HtmlElement:
    """The page's tree (trafilatura's ``load_html``: charset detection,
    repair of broken markup); `ExtractionError` when ``html`` is no HTML
    document."""
    if not isinstance(html, bytes | str):
        raise ExtractionError(f"page is {type(html).__name__}, not bytes or str")
    if len(html) > MAX_PAGE_BYTES:
        raise ExtractionError(f"page too large: {len(html)} bytes, limit {MAX_PAGE_BYTES}")
    if not html.strip():
        raise ExtractionError("empty page")
    html = without_control_references(html)
    try:
        tree = load_html(html)
    except Exception as exc:  # lxml and charset detection raise many kinds
        raise ExtractionError(f"unparseable page: {exc.__class__.__name__}: {exc}") from None
    if tree is None:
        raise ExtractionError("not an HTML document")
    return tree


def without_control_references(html: _Markup) -> _Markup:
    """``html`` without numeric character references to C0 controls
    (``&#1;``, ``&#x1b;``; tab, newline and CR are kept).  One of them makes
    lxml drop the text around it, and trafilatura then finds no article."""
    if isinstance(html, bytes):
        return _CONTROL_REFERENCE_BYTES.sub(b"", html) if b"&#" in html else html
    return _CONTROL_REFERENCE.sub("", html) if "&#" in html else html


def extract_tree(tree: HtmlElement, url: str, *, base: Clipping | None = None) -> Clipping:
    """`extract_article` of a page already parsed by `parse_page`; the tree
    is left as it was, for other readers of the same page."""
    # Read-only, and before trafilatura sees the tree.
    meta = read_metadata(tree)
    document = _trafilatura(tree, url)
    feed = base or Clipping(url=url)
    sites = [c.value for c in meta.site_names]
    if document is not None and document.sitename:
        sites.append(document.sitename)
    if feed.outlet:
        sites.append(feed.outlet)

    bylines = read_bylines(tree)
    title, title_from = _title(meta, document, feed, url, sites)
    authors, authors_raw, authors_from = _authors(meta, bylines, document, feed, url, sites)
    published_at, published_raw, published_from = _published(meta, document, feed, url, tree)
    options = credits.gather(
        titles=_title_options(meta, document, feed),
        bylines=_author_options(meta, bylines, document, feed),
        dates=_date_options(meta, document, feed, url),
        names_in=lambda byline: _names(byline, feed, url, sites),
        day_of=lambda raw: _day(raw, meta),
    )
    candidates = {
        "title": credits.field_entry(
            credits.title_confidence(
                title, title_from, options["title"], _on_page(title or "", meta.headings)
            ),
            options["title"],
        ),
        "authors": credits.field_entry(
            credits.authors_confidence(authors, authors_from, options["authors"]),
            options["authors"],
        ),
        "date": credits.field_entry(
            credits.date_confidence(published_at, published_from, options["date"]),
            options["date"],
        ),
    }
    language, language_from = _language(meta, feed)
    text, text_from = _text_chain(tree, url, document, meta, feed)
    clipping = dataclasses.replace(
        feed,
        url=url,
        canonical_url=canonical_link(tree, url) or feed.canonical_url,
        title=title,
        title_from=title_from,
        authors=authors,
        authors_raw=authors_raw,
        authors_from=authors_from,
        published_at=published_at,
        published_raw=published_raw,
        published_from=published_from,
        credit=_credit(authors_raw, options["authors"]) or feed.credit,
        candidates=candidates,
        doubts=credits.doubts_of(candidates),
        language=language,
        language_from=language_from,
        text=text,
        text_from=text_from,
        # Lists of their own, so that editing the result never edits the base.
        topics=list(feed.topics),
        matched_terms=list(feed.matched_terms),
    )
    # Where page text enters presscut: nothing unstorable goes further.
    clean_fields(clipping)
    return clipping


def canonical_link(tree: HtmlElement, url: str) -> str | None:
    """The page's ``<link rel=canonical>``, made absolute against ``url``;
    whether to trust it is the normalize stage's call (`scraper.urls`)."""
    for href in tree.xpath(
        "//head/link[@href][contains(concat(' ', normalize-space("
        "translate(@rel, 'CANONICAL', 'canonical')), ' '), ' canonical ')]/@href"
    ):
        href = str(href).strip()
        if href:
            return urljoin(url, href)
    return None


def _trafilatura(tree: HtmlElement, url: str) -> Document | None:
    """trafilatura's precision reading of the page (less boilerplate taken
    as text; recall is the chain's next step); ``None`` when it finds no
    text."""
    try:
        # bare_extraction works on a copy of a tree it is given.
        document = bare_extraction(tree, url=url, favor_precision=True, with_metadata=True)
    except Exception:  # trafilatura fails on some odd trees; the metadata still stands
        return None
    return document if isinstance(document, Document) else None


def _reading(tree: HtmlElement, url: str, focus: str) -> str | None:
    """trafilatura's text alone, read with ``focus``: ``"balanced"`` (its
    default) or ``"recall"`` (more of the page taken as text)."""
    try:
        document = bare_extraction(
            tree, url=url, favor_recall=focus == "recall", with_metadata=False
        )
    except Exception:  # as in _trafilatura
        return None
    return document.text if isinstance(document, Document) else None


def prose_words(tree: HtmlElement) -> int:
    """Words in the page's prose paragraphs (``<p>`` of at least
    `_PROSE_PARAGRAPH` words): a cheap measure of how much article text the
    page holds, to tell a precision reading that cut the article short."""
    total = 0
    for paragraph in tree.iter("p"):
        words = len(paragraph.text_content().split())
        if words >= _PROSE_PARAGRAPH:
            total += words
    return total


def _text_chain(
    tree: HtmlElement, url: str, document: Document | None, meta: PageMetadata, feed: Clipping
) -> tuple[str, str | None]:
    """``(text, text_from)``: the first reading of the chain with at least
    `MIN_TEXT_WORDS` words, else the longest one found (``("", None)``
    when there is none); see the module docstring for the order."""
    feed_from = feed.text_from if feed.text_from in ("feed", "feed-summary") else "feed"
    precise = document.text if document is not None else None
    # Precision drops boilerplate but sometimes most of the article with it:
    # a reading far shorter than the page's prose is cut short.
    needed = MIN_TEXT_WORDS
    if precise and len(precise.split()) >= MIN_TEXT_WORDS:
        needed = max(needed, int(PRECISION_SHARE * prose_words(tree)))
    readings: list[tuple[str, int, Callable[[], str | None]]] = [
        ("trafilatura", needed, lambda: precise),
        ("trafilatura", MIN_TEXT_WORDS, lambda: _reading(tree, url, "balanced")),
        ("trafilatura-recall", MIN_TEXT_WORDS, lambda: _reading(tree, url, "recall")),
        ("json-ld", MIN_TEXT_WORDS, lambda: meta.bodies[0] if meta.bodies else None),
        (feed_from, MIN_TEXT_WORDS, lambda: feed.text),
    ]
    readings += [(c.source, MIN_TEXT_WORDS, lambda c=c: c.value) for c in meta.descriptions[:1]]
    best, best_from, best_words = "", None, 0
    for source, enough, read in readings:
        text = _text(read())
        words = len(text.split())
        if words > best_words:
            best, best_from, best_words = text, source, words
        if words >= enough:
            break
    if best_from in ("trafilatura", "trafilatura-recall") and meta.bodies:
        # trafilatura falls back on the JSON-LD body itself: name it, and
        # keep the body's own paragraphs.
        body = _text(meta.bodies[0])
        if body.split() == best.split():
            return body, "json-ld"
    return best, best_from


def _title(
    meta: PageMetadata, document: Document | None, feed: Clipping, url: str, sites: list[str]
) -> tuple[str | None, str | None]:
    headline = next((c for c in meta.titles if c.key.endswith(".headline")), None)
    title = _clean(getattr(document, "title", None))
    source = "trafilatura"
    if headline is not None and not (
        title and _on_page(title, meta.headings) and not _on_page(headline.value, meta.headings)
    ):
        # The article's own headline: og:title (which trafilatura prefers) is
        # often a social-media line, unless the page's <h1> shows it.
        title, source = headline.value, headline.source
    elif title:
        # Name the page metadata trafilatura took it from, when it did.
        source = next((c.source for c in meta.titles if c.value == title), source)
    elif meta.titles:
        title, source = meta.titles[0].value, meta.titles[0].source
    elif feed.title:
        return feed.title, feed.title_from or "feed"
    else:
        return None, None
    blocked = {fold(s) for s in sites} | {host_label(url) or ""}
    evidence = [(h, source) for h in meta.headings]
    if feed.title:
        evidence.append((feed.title, feed.title_from or "feed"))
    for shorter, shorter_from in evidence:
        trimmed = trim_title(title, shorter, blocked)
        if trimmed is not None:
            return trimmed, shorter_from
    return without_site_name(title, blocked), source


def without_site_name(title: str, blocked: Collection[str]) -> str:
    """``title`` without a leading or trailing part that names the site:
    a part, cut off by a separator, whose `fold` key is or holds one of
    ``blocked`` (the ``og:site_name``, publisher and outlet names and the
    host's name): "Headline -Site", "Site｜Headline", "Headline - Site
    online".  What is left must still be a title (6 characters or more)."""
    keys = [k for k in blocked if len(k) >= 3]
    if not keys:
        return title
    parts = _SITE_PART.split(title)
    if len(parts) < 3:
        return title

    def names_site(part: str) -> bool:
        key = fold(part)
        return bool(key) and len(part) <= 60 and any(k in key for k in keys)

    # parts alternate text and separators: [text, sep, text, sep, text, ...]
    if names_site(parts[-1]) and len("".join(parts[:-2]).strip()) >= 6:
        return "".join(parts[:-2]).strip()
    if names_site(parts[0]) and len("".join(parts[2:]).strip()) >= 6:
        return "".join(parts[2:]).strip()
    return title


def _on_page(title: str, headings: list[str]) -> bool:
    """Whether ``title`` is shown as an ``<h1>`` (alone, or with a site part)."""
    key = fold(title)
    return any(fold(h) == key or trim_title(title, h) is not None for h in headings)


def trim_title(title: str, shorter: str, blocked: Collection[str] = ()) -> str | None:
    """``shorter`` when ``title`` is ``shorter`` plus a trailing site part
    ("Headline | Site", "Headline：Site") or a leading section part
    ("Section | Headline", but not "Kicker: Headline", where the kicker is
    part of the title); ``None`` otherwise.  ``blocked`` are `fold` keys of
    site names, which ``shorter`` may not be."""
    shorter = _clean(shorter) or ""
    if len(shorter) < 6 or len(shorter) >= len(title) or fold(shorter) in blocked:
        return None
    low, short = title.casefold(), shorter.casefold()
    if low.startswith(short):
        rest = title[len(shorter) :].lstrip()
        # "Headline, Place" and "Headline: Subhead" trim; "Headline again" does not.
        if not rest or rest[0].isalnum():
            return None
        return shorter
    if low.endswith(short):
        rest = title[: -len(shorter)]
        if not rest[-1:].isspace():
            return None
        rest = rest.rstrip()
        if rest[-1:] in _TITLE_SEPARATORS and rest[-1:] not in ":：":
            return shorter
    return None


def _authors(
    meta: PageMetadata,
    bylines: list[Candidate],
    document: Document | None,
    feed: Clipping,
    url: str,
    sites: list[str],
) -> tuple[list[str], str | None, str | None]:
    def names_in(byline: str) -> list[str]:
        return parse_byline(byline, outlet=feed.outlet, url=url, site_names=sites)

    people = [c for c in meta.authors if c.source == "json-ld" and c.kind in (None, "Person")]
    names = merge_names(names_in(c.value) for c in people)
    if names:
        return names, "; ".join(dict.fromkeys(c.value for c in people)), "json-ld"
    # Author markup in the page body (rel=author, hCard, microdata) names the
    # article's author; a class name alone says less than trafilatura.
    # Several authors are marked one element each: all of one kind count.
    for kind in dict.fromkeys(c.key for c in bylines if c.key != "class"):
        marked = [c for c in bylines if c.key == kind]
        names = merge_names(names_in(c.value) for c in marked)
        if names:
            return names, "; ".join(c.value for c in marked), "byline"
    parsed = [(c, names_in(c.value)) for c in meta.authors if c.source != "json-ld"]
    found = getattr(document, "author", None)
    # trafilatura also reads bylines in the page body, where metadata has none.
    names = names_in(found.replace("; ", ";")) if found else []
    if names:
        # Prefer the byline as the page states it, when trafilatura read it there.
        origin = next((c for c, n in parsed if n == names), None)
        if origin is not None:
            return names, origin.value, origin.source
        return names, found, "trafilatura"
    for candidate, names in parsed:
        if names:
            return names, candidate.value, candidate.source
    for candidate in bylines:
        names = names_in(candidate.value) if candidate.key == "class" else []
        if names:
            return names, candidate.value, candidate.source
    if feed.authors or feed.authors_raw:
        raw = feed.authors_raw or "; ".join(feed.authors)
        names = merge_names(names_in(b) for b in feed.authors or [raw])
        if names:
            return names, raw, feed.authors_from or "feed"
    return [], None, None


def _published(
    meta: PageMetadata, document: Document | None, feed: Clipping, url: str, tree: HtmlElement
) -> tuple[datetime | None, str | None, str | None]:
    value, raw, source = _published_value(meta, document, feed, url, tree)
    if value is not None and raw is not None and _UTC_TIME.search(raw):
        # An instant written in UTC falls on the calendar day of the site's
        # own zone: the offset its other dates are written in.
        offset = site_offset(meta)
        if offset is not None:
            value = value.astimezone(timezone(offset))
    return value, raw, source


def site_offset(meta: PageMetadata) -> timedelta | None:
    """The UTC offset the page writes its dates in: the first non-zero
    offset among its date metadata and ``<time datetime>`` values; ``None``
    when every date is UTC or has none."""
    for candidate in (*meta.published, *meta.times):
        if not _HAS_OFFSET.search(candidate.value):
            continue
        value = parse_date(candidate.value)
        offset = value.utcoffset() if value is not None else None
        if offset:
            return offset
    return None


def _published_value(
    meta: PageMetadata, document: Document | None, feed: Clipping, url: str, tree: HtmlElement
) -> tuple[datetime | None, str | None, str | None]:
    latest = datetime.now(UTC) + timedelta(days=2)
    for source in ("json-ld", "opengraph", "meta"):
        for candidate in meta.published:
            if candidate.source != source:
                continue
            value = parse_date(candidate.value)
            if value is not None and _EARLIEST <= value <= latest:
                return value, candidate.value, source
    if feed.published_at is not None:
        return feed.published_at, feed.published_raw, feed.published_from or "feed"
    guess = getattr(document, "date", None) if document is not None else _htmldate(tree)
    value = parse_date(guess)
    if value is not None and _EARLIEST <= value <= latest:
        return value, guess, "trafilatura"
    match = _URL_DATE.search(url)
    value = parse_date("-".join(match.groups())) if match else None
    if match and value is not None and _EARLIEST <= value <= latest:
        return value, match.group(0), "url"
    return None, None, None


def _htmldate(tree: HtmlElement) -> str | None:
    """htmldate's guess (trafilatura's own date reading), for a page where
    trafilatura found no text and so read no metadata."""
    try:
        return find_date(tree, extensive_search=True, original_date=True)
    except Exception:  # htmldate fails on some odd trees, as trafilatura does
        return None


def _credit(authors_raw: str | None, options: list[dict[str, Any]]) -> str | None:
    """The agencies credited by the byline picked, as the page writes it:
    the first author option that credits any, trafilatura's reading (which
    changes the case) last."""
    ordered = sorted(
        options, key=lambda o: (o["from"] == "trafilatura", o["value"] != authors_raw)
    )
    for byline in (o["value"] for o in ordered):
        credit = agency_credit(byline)
        if credit:
            return credit
    return None


def _names(byline: str, feed: Clipping, url: str, sites: list[str]) -> list[str]:
    return parse_byline(byline, outlet=feed.outlet, url=url, site_names=sites)


def _day(raw: str, meta: PageMetadata) -> datetime | None:
    """A date candidate read as `_published` reads the pick: a UTC time of
    day shown in the site's own offset.  Only numeric dates are read: a
    written one ("3. März 2024") costs a dateparser call per candidate, and
    the pick is read in full anyway."""
    if not _NUMERIC_DATE.match(raw):
        return None
    value = parse_date(raw)
    if value is not None and _UTC_TIME.search(raw):
        offset = site_offset(meta)
        if offset is not None:
            value = value.astimezone(timezone(offset))
    return value


def _title_options(
    meta: PageMetadata, document: Document | None, feed: Clipping
) -> list[tuple[str, str, str]]:
    found = [(c.value, c.source, c.key) for c in meta.titles]
    found += [(h, "meta", "h1") for h in meta.headings[:3]]
    if document is not None and document.title:
        found.append((document.title, "trafilatura", "trafilatura"))
    if feed.title:
        found.append((feed.title, feed.title_from or "feed", "feed"))
    return found


def _author_options(
    meta: PageMetadata, bylines: list[Candidate], document: Document | None, feed: Clipping
) -> list[tuple[str, str, str]]:
    found = [(c.value, c.source, c.key) for c in (*meta.authors, *bylines)]
    if document is not None and document.author:
        found.append((document.author, "trafilatura", "trafilatura"))
    if feed.authors_raw or feed.authors:
        found.append((feed.authors_raw or "; ".join(feed.authors), "feed", "feed"))
    return found


def _date_options(
    meta: PageMetadata, document: Document | None, feed: Clipping, url: str
) -> list[tuple[str, str, str]]:
    found = [(c.value, c.source, c.key) for c in (*meta.published, *meta.times)]
    if document is not None and document.date:
        found.append((document.date, "trafilatura", "htmldate"))
    match = _URL_DATE.search(url)
    if match:
        found.append(("-".join(match.groups()), "url", "url"))
    if feed.published_at is not None:
        raw = feed.published_raw or feed.published_at.isoformat()
        found.append((raw, feed.published_from or "feed", "feed"))
    return found


def _language(meta: PageMetadata, feed: Clipping) -> tuple[str | None, str | None]:
    def rank(key: str) -> int:
        order = ("html@lang", ".inLanguage", "content-language", "og:locale")
        return next((i for i, k in enumerate(order) if key.endswith(k)), len(order))

    for candidate in sorted(meta.languages, key=lambda c: rank(c.key)):
        code = language_code(candidate.value)
        if code:
            return code, candidate.source
    if feed.language:
        return feed.language, feed.language_from or "feed"
    return None, None


def _clean(value: str | None) -> str | None:
    if not value:
        return None
    value = " ".join(value.split())
    return value or None


def _text(text: str | None) -> str:
    """One paragraph a line, white space inside lines folded, no blank lines."""
    if not text:
        return ""
    lines = (_WS.sub(" ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)
