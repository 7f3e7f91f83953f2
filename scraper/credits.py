"""Credit candidates: every value a page (and its feed entry) offers for a
clipping's title, authors and date, where each came from, and how sure
the pick is.

`scraper.extract` gathers the candidates and picks one per field; this
module keeps them as plain JSON-ready data for `Clipping.candidates`::

    {"title":   {"confidence": 0.8, "options": [{"value", "from", "key"}, ...]},
     "authors": {"confidence": 0.6, "options": [{"value", "from", "key", "names"}, ...]},
     "date":    {"confidence": 0.8, "options": [{"value", "from", "key", "day"}, ...]}}

``value`` is the candidate as found (a byline, a date string), ``from`` its
provenance (one of `scraper.items.PROVENANCES`), ``key`` what it was read
from (``"NewsArticle.headline"``, ``"og:title"``, ``"rel=author"``,
``"time@datetime"``); an author option carries the person ``names`` read
from it, a date option its calendar ``day`` (``YYYY-MM-DD``) or ``None``
when unreadable.  The desk shows them as one-click alternatives.

Confidence (0 to 1) rests on provenance and agreement: the pick's source
gives a base (`BASES`: structured metadata and author markup above
trafilatura's guesses, the URL and nothing), and each other source that
offers the same value (same title, same names, same day) adds
`AGREEMENT` (trafilatura's guess and the URL count as one witness).  A
field below `LOW_CONFIDENCE` is named in `Clipping.doubts`, which puts the
clipping under the desk's "low-confidence" flag.  Nothing here raises.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from scraper.authors import fold

#: The fields that carry candidates, in credit-line order.
CREDIT_FIELDS = ("title", "authors", "date")
#: Below this, a field is doubtful and the clipping is flagged for review.
LOW_CONFIDENCE = 0.5
#: What each other agreeing source adds to the confidence.
AGREEMENT = 0.2
#: At most this many options are kept per field.
MAX_OPTIONS = 12
#: Confidence of a pick by its provenance before any agreement.
BASES = {
    "json-ld": 0.6,
    "opengraph": 0.5,
    "meta": 0.5,
    "byline": 0.5,
    "feed": 0.5,
    "curator": 1.0,
    "trafilatura": 0.4,
    "url": 0.3,
}

# Sources that are one witness, not two: htmldate reads the URL's date too.
_FAMILIES = {"url": "trafilatura"}


def option(value: str, source: str, key: str, **extra: Any) -> dict[str, Any]:
    """One candidate as stored: ``value``, ``from``, ``key`` and extras."""
    return {"value": value, "from": source, "key": key, **extra}


def confidence(
    picked_from: str | None, agreeing: Iterable[str], *, base: float | None = None
) -> float:
    """The confidence of a pick from ``picked_from`` that the sources
    ``agreeing`` (provenances of other options with the same value) back."""
    if picked_from is None:
        return 0.0
    score = BASES.get(picked_from, 0.4) if base is None else base
    family = _FAMILIES.get(picked_from, picked_from)
    others = {_FAMILIES.get(s, s) for s in agreeing} - {family}
    return round(min(1.0, score + AGREEMENT * len(others)), 2)


def title_confidence(
    title: str | None, title_from: str | None, options: list[dict[str, Any]], shown: bool
) -> float:
    """A title backed by other sources, and above all one the page shows
    as its headline (``shown``), is sure."""
    if not title:
        return 0.0
    key = fold(title)
    agreeing = [o["from"] for o in options if key and key in fold(o["value"])]
    if shown:
        agreeing.append("page")
    return confidence(title_from, agreeing)


def authors_confidence(
    names: list[str], authors_from: str | None, options: list[dict[str, Any]]
) -> float:
    """Names offered by several sources are sure; no names at all, where
    no source offered any, is a fair reading of a page that names nobody."""
    if not names:
        offered = any(o.get("names") for o in options)
        return 0.3 if offered else LOW_CONFIDENCE
    key = {fold(n) for n in names}
    agreeing = [o["from"] for o in options if {fold(n) for n in o.get("names") or []} == key]
    return confidence(authors_from, agreeing)


def date_confidence(
    value: datetime | None, date_from: str | None, options: list[dict[str, Any]]
) -> float:
    """A day that several sources give is sure; trafilatura's guess or the
    URL alone is not."""
    if value is None:
        return 0.0
    day = value.date().isoformat()
    return confidence(date_from, [o["from"] for o in options if o.get("day") == day])


def field_entry(score: float, options: list[dict[str, Any]]) -> dict[str, Any]:
    """A field's stored candidates: its confidence and its options, each
    distinct ``(value, from)`` once, at most `MAX_OPTIONS`."""
    kept: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for item in options:
        mark = (item["value"], item["from"])
        if mark not in seen and len(kept) < MAX_OPTIONS:
            seen.add(mark)
            kept.append(item)
    return {"confidence": score, "options": kept}


def doubts_of(candidates: dict[str, Any]) -> list[str]:
    """The fields of ``candidates`` whose confidence is below
    `LOW_CONFIDENCE`, in `CREDIT_FIELDS` order."""
    out = []
    for name in CREDIT_FIELDS:
        entry = candidates.get(name)
        if isinstance(entry, dict) and entry.get("confidence", 0.0) < LOW_CONFIDENCE:
            out.append(name)
    return out


def gather(
    *,
    titles: Iterable[tuple[str, str, str]],
    bylines: Iterable[tuple[str, str, str]],
    dates: Iterable[tuple[str, str, str]],
    names_in: Callable[[str], list[str]],
    day_of: Callable[[str], datetime | None],
) -> dict[str, list[dict[str, Any]]]:
    """The options per field from ``(value, from, key)`` triples, author
    options with the names ``names_in`` reads, date options with the day
    ``day_of`` reads (in its own offset)."""
    out: dict[str, list[dict[str, Any]]] = {"title": [], "authors": [], "date": []}
    for value, source, key in titles:
        if value:
            out["title"].append(option(value, source, key))
    for value, source, key in bylines:
        if value:
            out["authors"].append(option(value, source, key, names=names_in(value)))
    for value, source, key in dates:
        if value:
            read = day_of(value)
            day = read.date().isoformat() if read is not None else None
            out["date"].append(option(value, source, key, day=day))
    return out
