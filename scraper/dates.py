"""Dates as pages and sitemaps write them, read into aware datetimes.

`parse_date` accepts what news pages put in JSON-LD, OpenGraph, ``<meta>``
tags, sitemaps and section listings: ISO 8601 (also compact), Unix epoch
seconds or milliseconds, RFC 822, and written dates in the many languages
dateparser reads ("17. März 2019", "12 Νοεμβρίου 2026", "2026年11月3日").
It never raises on page content.
"""

from __future__ import annotations

import re
import warnings
from datetime import UTC, datetime

import dateparser
from dateutil import parser as dateutil_parser

_DOTTED_DAY_FIRST = re.compile(r"^\s*\d{1,2}\.\s?\d{1,2}\.\s?\d{2,4}")
_COMPACT_ISO = re.compile(
    r"^(\d{4})(\d{2})(\d{2})(?:T(\d{2}):?(\d{2}):?(\d{2})?)?(Z|[+-]\d{2}:?\d{2})?$"
)
_EPOCH = re.compile(r"^\d{10}(?:\d{3})?$")
# Absolute dates only: "yesterday" or "3 days ago" on a page says nothing
# reliable about when the page was written.  A month and a year at least, and
# the first of the month when the day is missing, so "Dec 2019" never borrows
# today's day.
_SETTINGS = {
    "PARSERS": ["timestamp", "custom-formats", "absolute-time"],
    "PREFER_DAY_OF_MONTH": "first",
    "REQUIRE_PARTS": ["month", "year"],
}


def parse_date(raw: str | None) -> datetime | None:
    """A date string as a timezone-aware datetime, or ``None``.

    ISO 8601 (also compact, ``20200414T003807Z``), Unix epoch seconds or
    milliseconds, RFC 822 ("Tue, 15 Sep 2020 10:01:41 EDT"), and written
    dates in any language dateparser knows; ``dd.mm.yyyy`` is read day
    first and "ET" is US Eastern time.  The page's own offset is kept; a
    value without one (date-only or naive) is taken as UTC, so a bare date
    becomes midnight UTC.  Relative dates ("yesterday") give ``None``.
    """
    if not raw:
        return None
    text = raw.strip()[:100]
    value: datetime | None = None
    try:
        if _EPOCH.match(text):
            seconds = int(text) / (1000 if len(text) == 13 else 1)
            value = datetime.fromtimestamp(seconds, tz=UTC)
        elif (compact := _COMPACT_ISO.match(text)) is not None:
            value = dateutil_parser.isoparse(_expand_compact(compact))
        else:
            value = dateutil_parser.isoparse(text)
    except (ValueError, OverflowError, OSError):
        value = _written_date(text)
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        value = value.replace(tzinfo=UTC)
    return value


def _written_date(text: str) -> datetime | None:
    settings = dict(_SETTINGS)
    if _DOTTED_DAY_FIRST.match(text):
        settings["DATE_ORDER"] = "DMY"
    try:
        with warnings.catch_warnings():
            # dateparser's regex and pytz internals warn on some inputs; the
            # answer is still right or None.
            warnings.simplefilter("ignore")
            return dateparser.parse(text, settings=settings)
    except (ValueError, OverflowError, TypeError, RecursionError):
        return None


def _expand_compact(match: re.Match[str]) -> str:
    year, month, day, hour, minute, second, zone = match.groups()
    text = f"{year}-{month}-{day}"
    if hour:
        text += f"T{hour}:{minute}:{second or '00'}"
        if zone:
            text += zone if zone == "Z" or ":" in zone else f"{zone[:3]}:{zone[3:]}"
    return text
