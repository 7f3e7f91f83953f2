"""Dates and periods of publishing: reading the dates curators type, and the
weeks a digest covers.

Contracts:

* every datetime returned is timezone-aware;
* a date without a time ("2019-09-17") means the start of that day in the
  publication's time zone (``[publication] timezone``); a datetime without an
  offset is read in that zone too;
* a period is ``(start, end)``, start inclusive, end exclusive; ``start``
  may be ``None`` (from the beginning);
* a digest week is the seven days ending on ``[publishing] week_ends_on``:
  ``2019-W38`` with weeks ending on Friday is Saturday 14 to Friday 20
  September 2019, and the digest is dated by that Friday.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

from dateutil.parser import isoparse

#: ``week_ends_on`` names, Monday first (``date.weekday()`` order).
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

_WEEK = re.compile(r"^(\d{4})-?W(\d{2})$")


def zone(name: str) -> tzinfo:
    """The time zone named ``name`` (IANA), UTC for "UTC"."""
    return UTC if name == "UTC" else ZoneInfo(name)


def parse_when(value: str, tz: tzinfo, what: str = "date") -> datetime:
    """An ISO 8601 date or datetime as an aware datetime (see the module
    docstring); `ValueError` naming ``what`` when it is not one."""
    text = value.strip()
    try:
        parsed = isoparse(text)
    except (ValueError, OverflowError):
        raise ValueError(
            f"{what}: {value!r} is not an ISO 8601 date or datetime (2019-09-17, "
            "2019-09-17T10:02:00+02:00)"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    return parsed


def day_start(day: date, tz: tzinfo) -> datetime:
    """Midnight at the start of ``day`` in ``tz``."""
    return datetime.combine(day, time(), tzinfo=tz)


def week_period(week: str, week_ends_on: str, tz: tzinfo) -> tuple[datetime, datetime]:
    """``(start, end)`` of digest week ``week`` ("2019-W38"): the seven days
    ending on the ``week_ends_on`` day of that ISO week."""
    match = _WEEK.match(week.strip())
    if not match:
        raise ValueError(f"--week: {week!r} is not an ISO week such as 2019-W38")
    year, number = int(match.group(1)), int(match.group(2))
    try:
        last_day = date.fromisocalendar(year, number, WEEKDAYS.index(week_ends_on) + 1)
    except ValueError:
        raise ValueError(f"--week: {week!r}: {year} has no week {number}") from None
    end = day_start(last_day + timedelta(days=1), tz)
    return end - timedelta(days=7), end


def period_label_day(end: datetime, tz: tzinfo) -> date:
    """The day a period ending (exclusively) at ``end`` is dated by: its
    last day in ``tz``."""
    return (end.astimezone(tz) - timedelta(microseconds=1)).date()


def local(value: datetime, tz: tzinfo) -> datetime:
    """``value`` in the publication's zone."""
    return value.astimezone(tz)
