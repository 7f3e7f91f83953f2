"""Written dates in other languages, and US zone names, as pages print them (#17.9)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from scraper.dates import parse_date


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("17. März 2019", datetime(2019, 3, 17, tzinfo=UTC)),
        ("12 Νοεμβρίου 2026", datetime(2026, 11, 12, tzinfo=UTC)),
        ("mardi 3 novembre 2026 à 10h15", datetime(2026, 11, 3, 10, 15, tzinfo=UTC)),
        ("3 de noviembre de 2026", datetime(2026, 11, 3, tzinfo=UTC)),
        ("2026年11月3日", datetime(2026, 11, 3, tzinfo=UTC)),
    ],
)
def test_dates_in_other_languages(raw: str, expected: datetime) -> None:
    assert parse_date(raw) == expected


def test_et_is_us_eastern_not_utc() -> None:
    value = parse_date("Nov 3, 2026 10:00 AM ET")
    assert value == datetime(2026, 11, 3, 15, 0, tzinfo=UTC)
    assert value is not None and value.utcoffset() == timedelta(hours=-5)


def test_german_zone_name_keeps_its_offset() -> None:
    value = parse_date("17. März 2019 14:00 MEZ")
    assert value == datetime(2019, 3, 17, 14, 0, tzinfo=timezone(timedelta(hours=1)))


@pytest.mark.parametrize("raw", ["gestern", "vor 3 Tagen", "hace 2 días"])
def test_relative_dates_in_other_languages_are_refused(raw: str) -> None:
    assert parse_date(raw) is None
