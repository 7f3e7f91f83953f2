"""A digest period narrows the pending entries in the database
(`Store.pending_entries(period=...)`) without changing which entries a
digest of that period gets: for every period, the entries dated in it are
the same as when every pending entry is read and filtered."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from digest.publisher import article_date
from scraper.items import Clipping
from storage import SITE, Store

T0 = datetime(2026, 3, 2, tzinfo=UTC)
DAY = timedelta(days=1)


def dated_in(
    entries: list[tuple[int, Clipping]], start: datetime | None, end: datetime
) -> list[int]:
    out = []
    for clipping_id, clipping in entries:
        when = article_date(clipping)
        if when is not None and when < end and (start is None or when >= start):
            out.append(clipping_id)
    return out


@pytest.fixture
def store_with_stories(store: Store) -> Store:
    """60 clippings over five weeks, some undated (fetch date counts), in
    clusters that span weeks, of every status; one cluster already out in
    a digest, one cited by a later member."""
    rng = random.Random(7)
    items = []
    for n in range(60):
        day = T0 + rng.randrange(35) * DAY + timedelta(hours=rng.randrange(24))
        dated = n % 7 != 0
        items.append(
            Clipping(
                url=f"https://s{n % 5}.example/{n}",
                source_id=f"s{n % 5}",
                url_hash=f"{n:040x}",
                entry_key=f"e{n}",
                title=f"Story {n}",
                text=f"Body {n}.",
                published_at=day if dated else None,
                fetched_at=day + timedelta(hours=3),
                cluster=f"{n % 40:040x}",  # 20 clusters of two, 20 single
                status=rng.choice(["new", "approved", "approved", "rejected", "published"]),
            )
        )
    store.write_batch(items, [], [])
    by_hash = store.clipping_ids_by_url_hash(c.url_hash or "" for c in items)
    store.record_publication(
        kind="digest",
        target=SITE,
        title="Earlier digest",
        posted_at=T0,
        items=[(by_hash[items[3].url_hash or ""], items[3].cluster or "")],
        period=(None, T0),
    )
    late = next(i for i, c in enumerate(items) if c.status == "approved" and i >= 40)
    store.cite(by_hash[items[late].url_hash or ""])
    return store


@pytest.mark.parametrize("weeks", [(0, 1), (1, 2), (2, 3), (3, 5), (None, 2), (4, 6)])
def test_a_period_narrows_nothing_a_digest_of_it_gets(
    store_with_stories: Store, weeks: tuple[int | None, int]
) -> None:
    store = store_with_stories
    start = None if weeks[0] is None else T0 + weeks[0] * 7 * DAY
    end = T0 + weeks[1] * 7 * DAY
    everything = store.pending_entries(SITE, "digest")
    narrowed = store.pending_entries(SITE, "digest", period=(start, end))
    expected = dated_in(everything, start, end)
    assert dated_in(narrowed, start, end) == expected
    assert expected  # the period holds entries: the check above means something
    assert len(narrowed) < len(everything)
