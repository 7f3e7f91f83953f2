"""Dates as pages and sitemaps write them, read into aware datetimes.

`parse_date` accepts what news pages put in JSON-LD, OpenGraph, ``<meta>``
tags, sitemaps and section listings: ISO 8601 (also compact), RFC 822, Unix
epoch seconds or milliseconds, and free forms dateutil reads.  It never
raises on page content.
"""

from __future__ import annotations

import re
import warnings
from datetime import UTC, datetime

from dateutil import parser as dateutil_parser

# Zone abbreviations dateutil does not know, as UTC offsets in seconds; an
# ambiguous one takes its most common meaning in news (CST: US Central).
_TZ_OFFSETS = {
    "UTC": 0, "GMT": 0, "Z": 0, "WET": 0, "BST": 3600, "CET": 3600, "MEZ": 3600, "CEST": 7200,
    "MESZ": 7200, "EET": 7200, "EEST": 10800, "MSK": 10800, "IST": 19800, "JST": 32400,
    "KST": 32400, "AEST": 36000, "AEDT": 39600, "EST": -18000, "EDT": -14400, "CST": -21600,
    "CDT": -18000, "MST": -25200, "MDT": -21600, "PST": -28800, "PDT": -25200,
}  # fmt: skip
_DOTTED_DAY_FIRST = re.compile(r"^\s*\d{1,2}\.\s?\d{1,2}\.\s?\d{2,4}")
_COMPACT_ISO = re.compile(
    r"^(\d{4})(\d{2})(\d{2})(?:T(\d{2}):?(\d{2}):?(\d{2})?)?(Z|[+-]\d{2}:?\d{2})?$"
)
_DEFAULT_DATE = datetime(2000, 1, 1)
_EPOCH = re.compile(r"^\d{10}(?:\d{3})?$")


def parse_date(raw: str | None) -> datetime | None:
    """A date string as a timezone-aware datetime, or ``None``.

    ISO 8601 (also compact, ``20200414T003807Z``), RFC 822 ("Tue, 15 Sep
    2020 10:01:41 EDT"), Unix epoch seconds or milliseconds, and free forms
    dateutil reads ("Sept 17, 2019"); ``dd.mm.yyyy`` is read day first.
    The page's own offset is kept; a value without one (date-only or
    naive) is taken as UTC, so a bare date becomes midnight UTC.
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
        value = None
    if value is None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                # A fixed default, so that "Dec 2019" never borrows today's day.
                value = dateutil_parser.parse(
                    text,
                    default=_DEFAULT_DATE,
                    dayfirst=bool(_DOTTED_DAY_FIRST.match(text)),
                    tzinfos=_TZ_OFFSETS,
                )
        except (ValueError, OverflowError, TypeError):
            return None
    if value.tzinfo is None or value.utcoffset() is None:
        value = value.replace(tzinfo=UTC)
    return value


def _expand_compact(match: re.Match[str]) -> str:
    year, month, day, hour, minute, second, zone = match.groups()
    text = f"{year}-{month}-{day}"
    if hour:
        text += f"T{hour}:{minute}:{second or '00'}"
        if zone:
            text += zone if zone == "Z" or ":" in zone else f"{zone[:3]}:{zone[3:]}"
    return text
